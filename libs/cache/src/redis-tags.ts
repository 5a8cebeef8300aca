import { createL2Breaker, type L2BreakerOptions } from './breaker';
import { cacheRequestsTotal } from './cache.metrics';
import type { L2Client } from './redis-remote-cache';
import type { Reached, RemoteTags } from './remote-cache';
import { TAG_ADD, TAG_MARK, TAG_POP, TAG_PRUNE_SAMPLE } from './redis-scripts';

/** Runs one Redis command through the owner's circuit breaker; undefined = not reached. */
export type RedisCall = <R>(op: (redis: L2Client) => Promise<R>) => Promise<Reached<R>>;

export interface RedisTagsOptions {
  /** the cache's name: the namespace of its keys */
  name: string;
  /**
   * Where the tagged entries live. `redis`: in this Redis, so tagging prunes members whose entry
   * is gone and popping a tag deletes its entries in the same script. `elsewhere` (Memcached):
   * Redis cannot see them, so nothing is pruned (a set is bounded by the distinct keys tagged
   * within its TTL) and the caller deletes the popped keys' entries itself.
   */
  entries: 'redis' | 'elsewhere';
}

/**
 * Tags on Redis: a set of keys per tag (`cache-tag:<name>:<tag>`) and the time of each tag's last
 * invalidation (`cache-tag-at:<name>:<tag>`). Used by the Redis adapter for its own entries, and
 * by the Memcached adapter, because Memcached has no sets and no way to list keys: it keeps its
 * tags here.
 */
export class RedisTags implements RemoteTags {
  constructor(
    private readonly call: RedisCall,
    private readonly options: RedisTagsOptions,
  ) {}

  /**
   * Tags for entries kept elsewhere, with a circuit breaker of their own (`<name>:tags`): a
   * Redis outage then costs tag calls a few failures, and the entries elsewhere are unaffected.
   */
  static forEntriesElsewhere(
    redis: L2Client,
    name: string,
    breakerOptions?: Partial<L2BreakerOptions>,
  ): RedisTags {
    const breaker = createL2Breaker(`${name}:tags`, breakerOptions);
    const call: RedisCall = async <R>(op: (r: L2Client) => Promise<R>) => {
      if (!breaker.opened) {
        try {
          return { ok: (await breaker.fire(() => op(redis))) as R };
        } catch {
          // counted below
        }
      }
      cacheRequestsTotal.inc({
        cache: name,
        layer: 'l2',
        result: breaker.opened ? 'bypass' : 'error',
      });
      return undefined;
    };
    return new RedisTags(call, { name, entries: 'elsewhere' });
  }

  async addTags(key: string, tags: string[], ttlSeconds: number): Promise<void> {
    // The set outlives its longest entry a little; pruning removes members that expired sooner.
    const ttl = String(Math.ceil(ttlSeconds) + 60);
    const sample = this.options.entries === 'redis' ? TAG_PRUNE_SAMPLE : 0;
    await Promise.all(
      tags.map((tag) =>
        this.call((redis) =>
          redis.eval(TAG_ADD, 1, this.tagKey(tag), key, ttl, sample, this.entryPrefix()),
        ),
      ),
    );
  }

  async popTag(tag: string, max: number): Promise<Reached<string[]>> {
    return this.call(
      (redis) =>
        redis.eval(TAG_POP, 1, this.tagKey(tag), max, this.entryPrefix()) as Promise<string[]>,
    );
  }

  async markTagInvalidated(tag: string, at: number, forMs: number): Promise<void> {
    await this.call((redis) =>
      redis.eval(TAG_MARK, 1, this.tagInvalidatedKey(tag), String(at), String(forMs)),
    );
  }

  async tagsInvalidatedAt(tags: string[]): Promise<number[]> {
    const raw = await this.call((redis) =>
      redis.mget(...tags.map((t) => this.tagInvalidatedKey(t))),
    );
    return (raw?.ok ?? []).flatMap((at) => (at === null ? [] : [Number(at)]));
  }

  /** The prefix of the entries' keys in Redis; empty = the entries are not in Redis. */
  private entryPrefix(): string {
    return this.options.entries === 'redis' ? `cache:${this.options.name}:` : '';
  }

  private tagKey(tag: string): string {
    return `cache-tag:${this.options.name}:${tag}`;
  }

  private tagInvalidatedKey(tag: string): string {
    return `cache-tag-at:${this.options.name}:${tag}`;
  }
}
