import { cacheL2BreakerOpen, cacheRequestsTotal } from './cache.metrics';
import { createL2Breaker, type L2Breaker, type L2BreakerOptions } from './breaker';
import type { CacheEntry } from './cache-entry';
import { EntryCodec, type ValueSchema } from './entry-codec';
import type { Reached, RemoteCache, SetOutcome } from './remote-cache';
import { DELETE_IF_EQUAL, REFRESH_LEASE, SET_IF_NEWER } from './redis-scripts';
import { RedisTags } from './redis-tags';

/** The Redis commands the adapter uses; ioredis's `Redis` satisfies it. */
export interface L2Client {
  get(key: string): Promise<string | null>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
}

export interface RedisRemoteCacheOptions<T = unknown> {
  /** the cache's name: the namespace of its keys */
  name: string;
  breaker?: Partial<L2BreakerOptions>;
  /** who holds a refresh lease (for a human reading Redis); default the process id */
  owner?: string;
  /** what the values must look like when read back (see `EntryCodec`); default: any value */
  schema?: ValueSchema<T>;
  /** default: one built from `name` and `schema` */
  codec?: EntryCodec<T>;
}

/**
 * The remote cache on Redis. Owns the key layout (`cache:<name>:<key>`, tag sets
 * `cache-tag:<name>:<tag>`, their invalidation times `cache-tag-at:<name>:<tag>`, refresh leases
 * `cache-lease:<name>:<key>`), the entries' JSON, the Lua, and the circuit breaker every call goes
 * through: a dead or hung Redis costs a few failed calls, then none until a trial call succeeds.
 * An entry read back that is not valid (`EntryCodec`) reads as absent and is deleted, unless it
 * was replaced meanwhile: its `ver` could be anything, and the version guard would keep it.
 */
export class RedisRemoteCache<T> implements RemoteCache<T> {
  private readonly breaker: L2Breaker;
  private readonly recovered: Array<() => void> = [];
  private readonly owner: string;
  private readonly tags: RedisTags;
  private readonly codec: EntryCodec<T>;

  constructor(
    private readonly redis: L2Client,
    private readonly options: RedisRemoteCacheOptions<T>,
  ) {
    const cache = options.name;
    this.codec = options.codec ?? new EntryCodec<T>(cache, options.schema);
    this.owner = options.owner ?? String(process.pid);
    this.tags = new RedisTags((op) => this.call(op), { name: cache, entries: 'redis' });
    this.breaker = createL2Breaker(cache, options.breaker);
    cacheL2BreakerOpen.set({ cache }, 0);
    this.breaker.on('open', () => cacheL2BreakerOpen.set({ cache }, 1));
    this.breaker.on('close', () => {
      cacheL2BreakerOpen.set({ cache }, 0);
      this.recovered.forEach((listener) => listener());
    });
  }

  get open(): boolean {
    return this.breaker.opened;
  }

  onRecovered(listener: () => void): void {
    this.recovered.push(listener);
  }

  async get(key: string): Promise<Reached<CacheEntry<T> | null>> {
    const raw = await this.call((redis) => redis.get(this.entryKey(key)));
    return raw && { ok: await this.readOrNull(key, raw.ok) };
  }

  async getMany(keys: string[]): Promise<Reached<Array<CacheEntry<T> | null>>> {
    const raw = await this.call((redis) => redis.mget(...keys.map((k) => this.entryKey(k))));
    return raw && { ok: await Promise.all(keys.map((key, i) => this.readOrNull(key, raw.ok[i]))) };
  }

  async setIfNewer(key: string, entry: CacheEntry<T>, ttlSeconds: number): Promise<SetOutcome> {
    const done = await this.call((redis) =>
      redis.eval(
        SET_IF_NEWER,
        1,
        this.entryKey(key),
        this.codec.encode(entry),
        String(entry.ver),
        String(Math.max(1, Math.round(ttlSeconds * 1000))),
      ),
    );
    if (!done) {
      return 'unreached';
    }
    return done.ok === 0 ? 'kept' : 'stored';
  }

  async delete(keys: string[]): Promise<boolean> {
    const done = await this.call((redis) => redis.del(...keys.map((k) => this.entryKey(k))));
    return done !== undefined;
  }

  addTags(key: string, tags: string[], ttlSeconds: number): Promise<void> {
    return this.tags.addTags(key, tags, ttlSeconds);
  }

  popTag(tag: string, max: number): Promise<Reached<string[]>> {
    return this.tags.popTag(tag, max);
  }

  markTagInvalidated(tag: string, at: number, forMs: number): Promise<void> {
    return this.tags.markTagInvalidated(tag, at, forMs);
  }

  tagsInvalidatedAt(tags: string[]): Promise<number[]> {
    return this.tags.tagsInvalidatedAt(tags);
  }

  async lease(
    key: string,
    heldExpiry: number,
    leaseMs: number,
  ): Promise<Reached<CacheEntry<T> | 'won' | 'busy'>> {
    const answer = await this.call((redis) =>
      redis.eval(
        REFRESH_LEASE,
        2,
        this.entryKey(key),
        `cache-lease:${this.options.name}:${key}`,
        String(heldExpiry),
        String(Math.round(leaseMs)),
        this.owner,
      ),
    );
    if (!answer) {
      return undefined;
    }
    if (typeof answer.ok === 'string') {
      // A refused entry: no refresh now (the value held stays served); the next read misses.
      return { ok: (await this.readOrNull(key, answer.ok)) ?? 'busy' };
    }
    return { ok: answer.ok === 1 ? 'won' : 'busy' };
  }

  /**
   * Run a Redis command through the breaker. Undefined means "not reached": the breaker is open
   * (counted as `bypass`, no call made) or the call failed (counted as `error`).
   */
  private async call<R>(op: (redis: L2Client) => Promise<R>): Promise<Reached<R>> {
    if (this.breaker.opened) {
      this.count('bypass');
      return undefined;
    }
    try {
      return { ok: (await this.breaker.fire(() => op(this.redis))) as R };
    } catch {
      this.count(this.breaker.opened ? 'bypass' : 'error');
      return undefined;
    }
  }

  /** The valid entry in `raw`, else null; a refused one is deleted (if still the same). */
  private async readOrNull(
    key: string,
    raw: string | null | undefined,
  ): Promise<CacheEntry<T> | null> {
    if (raw === null || raw === undefined) {
      return null;
    }
    const entry = this.codec.read(key, raw);
    if (!entry) {
      await this.call((redis) => redis.eval(DELETE_IF_EQUAL, 1, this.entryKey(key), raw));
    }
    return entry ?? null;
  }

  private count(result: 'error' | 'bypass'): void {
    cacheRequestsTotal.inc({ cache: this.options.name, layer: 'l2', result });
  }

  private entryKey(key: string): string {
    return `cache:${this.options.name}:${key}`;
  }
}
