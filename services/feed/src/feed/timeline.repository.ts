import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import { timelineKey } from './feed-keys';
import { fromWithScores, pageOf, readWindow, type TimelineEntry } from './feed-page';
import type { TimelineSource } from './timeline-source';

/**
 * Fan-out on write, the read side: home timelines are one Redis sorted set per user, post ids
 * scored by time and capped in length, filled by the feed worker.
 */
@Injectable()
export class TimelineRepository implements TimelineSource {
  readonly mode = 'fan-out';

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  describe(): string {
    return 'fan-out on write (FANOUT_ON_WRITE=true): a page is one read of timeline:<reader>';
  }

  async page(userId: string, limit: number, cursor?: TimelineEntry): Promise<TimelineEntry[]> {
    return pageOf(
      await readWindows(this.redis, [timelineKey(userId)], limit, cursor),
      limit,
      cursor,
    );
  }
}

/**
 * The newest `readWindow(limit)` entries at or below the cursor's score of each sorted set, in one
 * round trip: what a page is cut from (`pageOf`), whether from one timeline or many author lists.
 */
export async function readWindows(
  redis: Redis,
  keys: Iterable<string>,
  limit: number,
  cursor?: TimelineEntry,
): Promise<TimelineEntry[][]> {
  const max = cursor === undefined ? '+inf' : String(cursor.score);
  const pipeline = redis.pipeline();
  for (const key of keys) {
    pipeline.zrange(
      key,
      max,
      '-inf',
      'BYSCORE',
      'REV',
      'LIMIT',
      0,
      readWindow(limit),
      'WITHSCORES',
    );
  }
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, raw]) => {
    if (error) {
      throw error;
    }
    return fromWithScores(raw as string[]);
  });
}
