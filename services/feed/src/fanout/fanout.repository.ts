import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import { followersKey, timelineKey } from '../feed/timeline.repository';

/** The feed's copy of the follow graph (built from follow events) and timeline writes. */
@Injectable()
export class FanoutRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async addFollower(followeeId: string, followerId: string): Promise<void> {
    await this.redis.sadd(followersKey(followeeId), followerId);
  }

  async removeFollower(followeeId: string, followerId: string): Promise<void> {
    await this.redis.srem(followersKey(followeeId), followerId);
  }

  /** Followers in batches, without blocking Redis on a huge set (SSCAN, never SMEMBERS). */
  async *followers(userId: string, batch = 1000): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const [next, members] = await this.redis.sscan(followersKey(userId), cursor, 'COUNT', batch);
      cursor = next;
      if (members.length > 0) {
        yield members;
      }
    } while (cursor !== '0');
  }

  /**
   * Add a post to many timelines in one round trip and trim each to `max` entries. ZADD of the
   * same member and score is a no-op, so a redelivered job changes nothing.
   */
  async pushToTimelines(
    userIds: string[],
    postId: string,
    score: number,
    max: number,
  ): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const userId of userIds) {
      pipeline.zadd(timelineKey(userId), score, postId);
      pipeline.zremrangebyrank(timelineKey(userId), 0, -(max + 1));
    }
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed) {
      throw failed[0] as Error;
    }
  }
}
