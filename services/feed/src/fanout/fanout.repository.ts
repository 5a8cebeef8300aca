import { Inject, Injectable } from '@nestjs/common';
import { REDIS, throwOnPipelineError } from '@murmur/redis';
import type { Redis } from 'ioredis';
import {
  authoredKey,
  followersKey,
  followingKey,
  graphVersionKey,
  timelineKey,
} from '../feed/feed-keys';

/**
 * Copy an author's newest posts into a timeline and trim it (a follow's backfill). ZADD of the
 * same member and score changes nothing, so a redelivered job is harmless.
 * KEYS[1] authored list, KEYS[2] timeline; ARGV: how many posts, timeline max.
 */
const BACKFILL = `
local posts = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'REV', 'WITHSCORES')
for i = 1, #posts, 2 do redis.call('ZADD', KEYS[2], posts[i + 1], posts[i]) end
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 1))
return #posts / 2
`;

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
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

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
   * join the follower's timeline, which is trimmed again. Returns how many were copied.
   */
  async backfill(followeeId: string, followerId: string, max: number): Promise<number> {
    return Number(
      await this.redis.eval(
        BACKFILL,
        2,
        authoredKey(followeeId),
        timelineKey(followerId),
        max,
        max,
      ),
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

  /** Add a post to many followers' timelines in one round trip (none: no round trip). */
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
    if (keys.length === 0) {
      return;
    }
    const pipeline = this.redis.pipeline();
    for (const key of keys) {
      pipeline.zadd(key, score, postId);
      pipeline.zremrangebyrank(key, 0, -(max + 1));
    }
    throwOnPipelineError(await pipeline.exec());
  }
}
