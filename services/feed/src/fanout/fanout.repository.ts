import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import { authoredKey, followersKey, followingKey, timelineKey } from '../feed/feed-keys';

/** The feed's copy of the follow graph (built from follow events) and timeline writes. */
@Injectable()
export class FanoutRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Both directions in one transaction: followers for fan-out, following for fan-in. */
  async addFollow(followeeId: string, followerId: string): Promise<void> {
    this.check(
      await this.redis
        .multi()
        .sadd(followersKey(followeeId), followerId)
        .sadd(followingKey(followerId), followeeId)
        .exec(),
    );
  }

  async removeFollow(followeeId: string, followerId: string): Promise<void> {
    this.check(
      await this.redis
        .multi()
        .srem(followersKey(followeeId), followerId)
        .srem(followingKey(followerId), followeeId)
        .exec(),
    );
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
   * Record a post in its author's own list (`feed:authored`, read by fan-in) and, when fanning
   * out, in the author's timeline, in one round trip.
   */
  async addAuthored(
    authorId: string,
    postId: string,
    score: number,
    max: number,
    withTimeline: boolean,
  ): Promise<void> {
    const keys = [authoredKey(authorId), ...(withTimeline ? [timelineKey(authorId)] : [])];
    await this.push(keys, postId, score, max);
  }

  /** Add a post to many followers' timelines in one round trip. */
  async pushToTimelines(
    userIds: string[],
    postId: string,
    score: number,
    max: number,
  ): Promise<void> {
    await this.push(userIds.map(timelineKey), postId, score, max);
  }

  /**
   * ZADD to each sorted set and trim it to its `max` newest entries. ZADD of the same member and
   * score is a no-op, so a redelivered job changes nothing.
   */
  private async push(keys: string[], postId: string, score: number, max: number): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const key of keys) {
      pipeline.zadd(key, score, postId);
      pipeline.zremrangebyrank(key, 0, -(max + 1));
    }
    this.check(await pipeline.exec());
  }

  private check(results: Array<[Error | null, unknown]> | null): void {
    const failed = results?.find(([error]) => error !== null);
    if (failed) {
      throw failed[0] as Error;
    }
  }
}
