import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';

export interface TimelineEntry {
  postId: string;
  /** epoch ms of the post */
  score: number;
}

export const timelineKey = (userId: string): string => `timeline:${userId}`;
export const followersKey = (userId: string): string => `feed:followers:${userId}`;

/** Home timelines: one Redis sorted set per user, post ids scored by time, capped in length. */
@Injectable()
export class TimelineRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /**
   * Newest first, strictly older than the cursor position. Ties on the score (same ms) are broken
   * by post id, which also grows with time.
   */
  async page(userId: string, limit: number, before?: TimelineEntry): Promise<TimelineEntry[]> {
    const max = before === undefined ? '+inf' : String(before.score);
    // Fetch a little extra to step over entries that share the cursor's millisecond.
    const raw = await this.redis.zrange(
      timelineKey(userId),
      max,
      '-inf',
      'BYSCORE',
      'REV',
      'LIMIT',
      0,
      limit + 32,
      'WITHSCORES',
    );
    const entries: TimelineEntry[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      entries.push({ postId: raw[i], score: Number(raw[i + 1]) });
    }
    entries.sort((a, b) => b.score - a.score || (BigInt(b.postId) > BigInt(a.postId) ? 1 : -1));
    const after =
      before === undefined
        ? entries
        : entries.filter((e) => e.score < before.score || BigInt(e.postId) < BigInt(before.postId));
    return after.slice(0, limit);
  }
}
