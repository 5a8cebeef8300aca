import { Inject, Injectable } from '@nestjs/common';
import {
  authoredKey,
  followersKey,
  followingKey,
  graphVersionKey,
  timelineKey,
} from '@murmur/contracts';
import { REDIS, throwOnPipelineError } from '@murmur/redis';
import type { Redis } from 'ioredis';
import { withTimelineScripts } from '../timelines/timeline-scripts';

/**
 * Remove an author's posts from a timeline (an unfollow), in chunks that keep each ZREM's
 * argument list short. KEYS[1] authored list, KEYS[2] timeline.
 */
const PRUNE = `
local posts = redis.call('ZRANGE', KEYS[1], 0, -1)
local removed = 0
for i = 1, #posts, 500 do
  removed = removed + redis.call('ZREM', KEYS[2], unpack(posts, i, math.min(i + 499, #posts)))
end
return removed
`;

/**
 * A follow-graph change, versioned. KEYS[1] followee's followers, KEYS[2] follower's following,
 * KEYS[3] follower's version hash; ARGV: SADD|SREM, follower, followee, version ('' = unversioned,
 * applied as is). Versions are decimal strings of a bigint: compared by length, then text.
 */
const APPLY_FOLLOW_CHANGE = `
local v = ARGV[4]
if v ~= '' then
  local seen = redis.call('HGET', KEYS[3], ARGV[3])
  if seen and (#seen > #v or (#seen == #v and seen >= v)) then return 0 end
  redis.call('HSET', KEYS[3], ARGV[3], v)
end
redis.call(ARGV[1], KEYS[1], ARGV[2])
redis.call(ARGV[1], KEYS[2], ARGV[3])
return 1
`;

export interface FollowersPage {
  /** where the next page starts; '0' when the scan is complete */
  cursor: string;
  members: string[];
}

/** The feed's copy of the follow graph (built from follow events) and timeline writes. */
@Injectable()
export class FanoutRepository {
  private readonly redis: Redis;

  constructor(@Inject(REDIS) redis: Redis) {
    this.redis = withTimelineScripts(redis);
  }

  /**
   * Both directions of a follow (followers for fan-out, following for fan-in), or of an unfollow,
   * in one script, if `version` is newer than the last change applied to the pair: a redelivered
   * or reordered older event changes nothing. Returns whether it was applied.
   */
  async applyFollowChange(
    change: 'follow' | 'unfollow',
    followeeId: string,
    followerId: string,
    version: string | undefined,
  ): Promise<boolean> {
    const applied = await this.redis.eval(
      APPLY_FOLLOW_CHANGE,
      3,
      followersKey(followeeId),
      followingKey(followerId),
      graphVersionKey(followerId),
      change === 'follow' ? 'SADD' : 'SREM',
      followerId,
      followeeId,
      version ?? '',
    );
    return Number(applied) === 1;
  }

  /**
   * A new follow, fan-out mode: the followee's newest posts (up to `max`, the timeline's bound)
   * join the follower's timeline, which is trimmed again; a follower without a materialised
   * timeline gets them when it is merged. Returns how many were copied.
   */
  backfill(followeeId: string, followerId: string, max: number): Promise<number> {
    return this.redis.murmurBackfillLive(
      authoredKey(followeeId),
      timelineKey(followerId),
      max,
      max,
    );
  }

  /**
   * An unfollow, fan-out mode: the followee's posts leave the follower's timeline (those in the
   * followee's list, i.e. its newest `TIMELINE_MAX`; older ones have been trimmed out already, or
   * will be). Returns how many were removed.
   */
  async prune(followeeId: string, followerId: string): Promise<number> {
    return Number(
      await this.redis.eval(PRUNE, 2, authoredKey(followeeId), timelineKey(followerId)),
    );
  }

  /**
   * One page of a user's followers from `cursor` ('0' starts; a returned '0' means done), about
   * `count` of them, without blocking Redis on a huge set (SSCAN, never SMEMBERS). The same cursor
   * on an unchanged set gives the same page, which is what lets a fan-out resume from a cursor.
   */
  async followersPage(userId: string, cursor: string, count: number): Promise<FollowersPage> {
    const [next, members] = await this.redis.sscan(followersKey(userId), cursor, 'COUNT', count);
    return { cursor: next, members };
  }

  /**
   * Record a post in its author's own list (`feed:authored`, read by fan-in and by a timeline's
   * merge), trimmed to `max`, and, when fanning out, in the author's timeline if it is
   * materialised, in one round trip. ZADD of the same member and score is a no-op, so a
   * redelivered job changes nothing.
   */
  async addAuthored(
    authorId: string,
    postId: string,
    score: number,
    max: number,
    withTimeline: boolean,
  ): Promise<void> {
    const pipeline = this.redis.pipeline();
    pipeline.zadd(authoredKey(authorId), score, postId);
    pipeline.zremrangebyrank(authoredKey(authorId), 0, -(max + 1));
    if (withTimeline) {
      pipeline.murmurPushToLive(1, timelineKey(authorId), score, postId, max);
    }
    throwOnPipelineError(await pipeline.exec());
  }

  /**
   * Add a post to those of many followers' timelines that are materialised, in one round trip
   * (none: no round trip); the others get it when their reader's next read merges them. Returns
   * how many timelines were written.
   */
  async pushToTimelines(
    userIds: string[],
    postId: string,
    score: number,
    max: number,
  ): Promise<number> {
    if (userIds.length === 0) {
      return 0;
    }
    return this.redis.murmurPushToLive(
      userIds.length,
      ...userIds.map(timelineKey),
      score,
      postId,
      max,
    );
  }
}
