import { Inject, Injectable } from '@nestjs/common';
import { boardKey } from '@murmur/contracts';
import { projectScores } from '@murmur/rebuild';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';

export interface RankedEntry {
  userId: string;
  score: number;
  rank: number;
}

/** Leaderboards as Redis sorted sets: O(log n) updates, top-N in one call. */
@Injectable()
export class LeaderboardRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async top(board: string, limit: number): Promise<RankedEntry[]> {
    const raw = await this.redis.zrange(boardKey(board), 0, limit - 1, 'REV', 'WITHSCORES');
    const entries: RankedEntry[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      entries.push({ userId: raw[i], score: Number(raw[i + 1]), rank: i / 2 + 1 });
    }
    return entries;
  }

  /** Show a committed score on the board (never lowering it: see `projectScores`). */
  async project(board: string, userId: string, score: number): Promise<void> {
    await projectScores(this.redis, board, [{ userId, score }]);
  }
}
