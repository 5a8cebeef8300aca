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
    const max = cursor === undefined ? '+inf' : String(cursor.score);
    const raw = await this.redis.zrange(
      timelineKey(userId),
      max,
      '-inf',
      'BYSCORE',
      'REV',
      'LIMIT',
      0,
      readWindow(limit),
      'WITHSCORES',
    );
    return pageOf([fromWithScores(raw)], limit, cursor);
  }
}
