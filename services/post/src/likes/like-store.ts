import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';

/**
 * The write-behind side of likes, in the data Redis (AOF, noeviction). Per post P:
 *   likes:count:P    the live count; its presence means P is loaded
 *   likes:members:P  user → 1 (likes P) / 0 (does not): only the users who liked, unliked or were
 *                    looked up since P was loaded, never every liker, so loading a post with a
 *                    million likers is one row and one key, not a million-argument script
 *   likes:pending:P  user → 1 (like) / 0 (unlike), the last word per user since the last flush
 *   likes:flushing:P what a flush took from `pending` and has not yet committed to Postgres
 *   likes:dirty      the posts with pending or flushing changes
 * While P has changes the keys never expire; after a flush leaves nothing pending they expire
 * after the idle time, and the next like loads the count (and that one user's membership) again
 * from Postgres.
 * In write-through mode only `likes:committed:P` (+ its version) is kept: Postgres's count.
 */
export const KEYS = {
  count: (postId: string) => `likes:count:${postId}`,
  members: (postId: string) => `likes:members:${postId}`,
  pending: (postId: string) => `likes:pending:${postId}`,
  flushing: (postId: string) => `likes:flushing:${postId}`,
  committed: (postId: string) => `likes:committed:${postId}`,
  version: (postId: string) => `likes:version:${postId}`,
  dirty: 'likes:dirty',
};

/**
 * Like (ARGV[3] = '1') or unlike ('0') in one step. KEYS: count, members, pending, dirty.
 * ARGV: user id, post id, op. Returns -1 when the post is not loaded or this user's membership is
 * not known yet, else {changed 0|1, count}.
 */
const APPLY = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local known = redis.call('HGET', KEYS[2], ARGV[1])
if not known then return -1 end
if known == ARGV[3] then return {0, tonumber(redis.call('GET', KEYS[1]))} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
local count = redis.call('INCRBY', KEYS[1], ARGV[3] == '1' and 1 or -1)
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
return {1, count}
`;

/**
 * What Postgres said of a post: its count, unless the post is loaded already (then Redis's count
 * is the newer), and whether each given user likes it, unless Redis knows already (a like applied
 * since is the newer word). The members expire with the count. KEYS: count, members.
 * ARGV: count, idle ttl, then user id, '1' | '0' pairs (the service sends one pair).
 */
const LOAD = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
if #ARGV < 4 then return 1 end
for i = 3, #ARGV, 2 do redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) else redis.call('PERSIST', KEYS[2]) end
return 1
`;

/**
 * Take a post's pending changes for a flush: merge them over what an unfinished flush left (the
 * newer word per user wins) and return the lot. KEYS: pending, flushing.
 */
const CLAIM = `
local pending = redis.call('HGETALL', KEYS[1])
-- in chunks (an even size keeps field and value together): Lua unpacks at most ~8000 values
for i = 1, #pending, 5000 do
  redis.call('HSET', KEYS[2], unpack(pending, i, math.min(i + 4999, #pending)))
end
if #pending > 0 then
  redis.call('DEL', KEYS[1])
end
return redis.call('HGETALL', KEYS[2])
`;

/**
 * A flush committed: forget what it wrote; if nothing new arrived meanwhile the post is clean and
 * its keys may expire. KEYS: flushing, pending, dirty, count, members. ARGV: post id, idle ttl.
 */
const FINISH = `
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
  redis.call('EXPIRE', KEYS[4], ARGV[2])
  redis.call('EXPIRE', KEYS[5], ARGV[2])
end
return 1
`;

/**
 * Write-through mode: store the count Postgres committed, unless a later commit already stored
 * its own (versions are the committing transaction's clock, taken under the post's row lock).
 * The write-behind keys of the post are dropped unless they hold unflushed changes, so switching
 * back to write-behind reloads them from Postgres. KEYS: committed, version, count, members,
 * pending, flushing. ARGV: count, version, ttl.
 */
const STORE_COMMITTED = `
local current = tonumber(redis.call('GET', KEYS[2]) or '-1')
if current >= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
if redis.call('EXISTS', KEYS[5]) == 0 and redis.call('EXISTS', KEYS[6]) == 0 then
  redis.call('UNLINK', KEYS[3], KEYS[4])
end
return 1
`;

export type LikeChange = Map<string, boolean>;

@Injectable()
export class LikeStore {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Undefined: the post, or this user's membership, is not loaded (call `load`, then again). */
  async apply(
    postId: string,
    userId: string,
    like: boolean,
  ): Promise<{ changed: boolean; count: number } | undefined> {
    const result = (await this.redis.eval(
      APPLY,
      4,
      KEYS.count(postId),
      KEYS.members(postId),
      KEYS.pending(postId),
      KEYS.dirty,
      userId,
      postId,
      like ? '1' : '0',
    )) as number | [number, number];
    if (result === -1) {
      return undefined;
    }
    const [changed, count] = result as [number, number];
    return { changed: changed === 1, count };
  }

  /**
   * Store what Postgres said (see LOAD): the post's count, and whether each of `members` likes
   * it. One script with two arguments per member: the service passes the one user who asked.
   */
  async load(
    postId: string,
    count: number,
    members: ReadonlyMap<string, boolean>,
    idleSeconds: number,
  ): Promise<void> {
    const pairs = [...members].flatMap(([userId, liked]) => [userId, liked ? '1' : '0']);
    await this.redis.eval(
      LOAD,
      2,
      KEYS.count(postId),
      KEYS.members(postId),
      String(count),
      String(idleSeconds),
      ...pairs,
    );
  }

  /**
   * The counts Redis holds for these posts (one MGET): the live write-behind counter, or in
   * write-through mode the last committed count.
   */
  async counts(postIds: string[], mode: 'behind' | 'through'): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    if (postIds.length === 0) {
      return found;
    }
    const key = mode === 'behind' ? KEYS.count : KEYS.committed;
    const values = await this.redis.mget(...postIds.map(key));
    postIds.forEach((id, i) => {
      const v = values[i];
      if (v !== null && v !== undefined) {
        found.set(id, Number(v));
      }
    });
    return found;
  }

  /** Up to `limit` posts with changes to flush. */
  async dirtyPosts(limit: number): Promise<string[]> {
    return this.redis.srandmember(KEYS.dirty, limit);
  }

  async dirtyCount(): Promise<number> {
    return this.redis.scard(KEYS.dirty);
  }

  /** The changes of each post to write now: user id → liked. */
  async claim(postIds: string[]): Promise<Map<string, LikeChange>> {
    const pipeline = this.redis.pipeline();
    postIds.forEach((id) => pipeline.eval(CLAIM, 2, KEYS.pending(id), KEYS.flushing(id)));
    const results = (await pipeline.exec()) ?? [];
    const claimed = new Map<string, LikeChange>();
    results.forEach(([error, flat], i) => {
      if (error) {
        throw error;
      }
      const fields = flat as string[];
      const changes: LikeChange = new Map();
      for (let f = 0; f < fields.length; f += 2) {
        changes.set(fields[f], fields[f + 1] === '1');
      }
      if (changes.size > 0) {
        claimed.set(postIds[i], changes);
      }
    });
    return claimed;
  }

  async finish(postIds: string[], idleSeconds: number): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const id of postIds) {
      pipeline.eval(
        FINISH,
        5,
        KEYS.flushing(id),
        KEYS.pending(id),
        KEYS.dirty,
        KEYS.count(id),
        KEYS.members(id),
        id,
        String(idleSeconds),
      );
    }
    const failed = ((await pipeline.exec()) ?? []).find(([error]) => error)?.[0];
    if (failed) {
      throw failed;
    }
  }

  /** Write-through mode: the count Postgres committed, version-guarded. */
  async storeCommitted(
    postId: string,
    count: number,
    version: string,
    idleSeconds: number,
  ): Promise<void> {
    await this.redis.eval(
      STORE_COMMITTED,
      6,
      KEYS.committed(postId),
      KEYS.version(postId),
      KEYS.count(postId),
      KEYS.members(postId),
      KEYS.pending(postId),
      KEYS.flushing(postId),
      String(count),
      version,
      String(idleSeconds),
    );
  }
}
