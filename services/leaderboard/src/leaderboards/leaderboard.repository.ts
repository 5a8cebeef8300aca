import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';

export interface RankedEntry {
  userId: string;
  score: number;
  rank: number;
}

const boardKey = (board: string): string => `leaderboard:${board}`;
const eventKey = (board: string, eventId: string): string =>
  `leaderboard:event:${board}:${eventId}`;

/**
 * Add points once per event: the event marker and the increment happen atomically, so a
 * redelivered job returns the current score without counting again.
 * KEYS: board, event marker. ARGV: delta, userId, marker ttl seconds.
 */
const SCORE_ONCE = `
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then
  return redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[2])
end
return redis.call('ZSCORE', KEYS[1], ARGV[2])
`;

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

  async addOnce(board: string, userId: string, delta: number, eventId: string): Promise<number> {
    const score = (await this.redis.eval(
      SCORE_ONCE,
      2,
      boardKey(board),
      eventKey(board, eventId),
      String(delta),
      userId,
      String(7 * 24 * 3600),
    )) as string | null;
    return Number(score ?? 0);
  }
}
