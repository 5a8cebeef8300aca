import { cacheLoadsTotal } from './cache.metrics';
import { CacheEntries, SYSTEM_CLOCK, type CacheClock } from './cache-entry';
import type { CacheOptions } from './cache-options';
import { LocalCache } from './local-cache';
import { MissedWrites } from './missed-writes';
import { ReadThrough, type Loader } from './read-through';
import { RedisRemoteCache } from './redis-remote-cache';
import { RefreshPolicy } from './refresh-policy';
import type { RemoteCache } from './remote-cache';
import { TagSystem } from './tag-system';

/**
 * The cache: a thin facade over its parts. L1 (`LocalCache`), L2 behind the `RemoteCache` port
 * (`RedisRemoteCache`), tags (`TagSystem`), early refresh (`RefreshPolicy`), the read path
 * (`ReadThrough`) and the replay of writes L2 missed (`MissedWrites`); invalidations reach the
 * other processes' L1 over the bus.
 */
export class Cache<T> {
  private readonly local?: LocalCache<T>;
  private readonly remote?: RemoteCache<T>;
  private readonly missed?: MissedWrites;
  private readonly entries: CacheEntries<T>;
  private readonly tags: TagSystem;
  private readonly reads: ReadThrough<T>;

  constructor(private readonly options: CacheOptions<T>) {
    const { name, l1, bus } = options;
    const clock: CacheClock = {
      now: options.now ?? SYSTEM_CLOCK.now,
      random: options.random ?? SYSTEM_CLOCK.random,
    };
    this.remote =
      options.remote ??
      (options.l2 &&
        new RedisRemoteCache<T>(options.l2, {
          name,
          breaker: options.l2Breaker,
          schema: options.schema,
        }));
    if (this.remote) {
      const missed = new MissedWrites(this.remote, (keys) => this.announce(keys));
      this.remote.onRecovered(() => void missed.replay());
      this.missed = missed;
    }
    if (l1.enabled) {
      const ttlSeconds = l1.ttlSeconds ?? options.ttlSeconds;
      this.local = new LocalCache<T>(name, { ...l1, ttlSeconds, now: options.now }, (key) =>
        this.tags.untagLocal(key),
      );
    }
    const local = this.local;
    this.tags = new TagSystem({
      remote: this.remote,
      forget: local && ((key) => local.delete(key)),
      now: clock.now,
      graceMs: options.tagGraceMs ?? 1_000,
    });
    this.entries = new CacheEntries<T>(options, clock);
    const refresh = new RefreshPolicy<T>({
      cacheName: name,
      ttlSeconds: options.ttlSeconds,
      xfetchBeta: options.xfetchBeta ?? 1,
      refreshAheadRatio: options.refreshAheadRatio ?? 0,
      clock,
      remote: this.remote,
      adopt: (key, entry) => this.local?.set(key, entry),
    });
    const { entries, tags, remote } = this;
    this.reads = new ReadThrough<T>({
      cacheName: name,
      entries,
      local,
      remote,
      tags,
      refresh,
      clock,
    });
    bus?.register(name, (keys, invalidatedTags) => {
      keys.forEach((k) => this.local?.delete(k));
      invalidatedTags.forEach((t) => this.tags.heard(t));
    });
  }

  get name(): string {
    return this.options.name;
  }

  /** True while L2 is skipped because it failed (the breaker is open). */
  get l2Open(): boolean {
    return this.remote?.open ?? false;
  }

  /**
   * Multi-get: L1 for every key, then one MGET on L2 for the L1 misses, then one `loadMissing`
   * call for what neither layer had. `loadMissing` returns the values it found by key; keys it
   * leaves out are "not found" (not cached). Result: a value or null per key asked.
   */
  getMany(
    keys: string[],
    loadMissing: (missing: string[]) => Promise<Map<string, T>>,
  ): Promise<Map<string, T | null>> {
    return this.reads.getMany(keys, loadMissing);
  }

  /** Read-through: L1, then L2, then `loader` (once per key per process at a time). */
  async getOrSet(
    key: string,
    loader: Loader<T>,
    read: { bypassL1?: boolean; refresh?: boolean; tags?: string[] } = {},
  ): Promise<T | null> {
    return read.refresh
      ? this.refresh(key, loader, read.tags)
      : this.reads.getOrSet(key, loader, read);
  }

  /**
   * Load from the source now (a client's `Cache-Control: no-cache`), and store the result: the
   * version guard keeps a newer cached value if the source answered with an older one.
   */
  async refresh(key: string, loader: Loader<T>, tags?: string[]): Promise<T | null> {
    const value = await loader();
    cacheLoadsTotal.inc({ cache: this.name, outcome: 'refreshed' });
    if (value !== null) {
      await this.set(key, value, { tags });
    }
    return value;
  }

  /**
   * Write-through: call after the source was updated; replaces the cached value everywhere. The
   * version guard applies in both layers, as on a load: a value older than this process's L1
   * entry is not put there, and one that L2 refuses as older is dropped from L1 (a refresh that
   * read a lagging replica would otherwise pin the older value here for the L1 TTL).
   */
  async set(key: string, value: T, options: { tags?: string[] } = {}): Promise<void> {
    const { entry, ttlSeconds } = this.entries.entryOf(value);
    const tags = options.tags ?? [];
    this.reads.setLocal(key, entry, tags);
    if ((await this.reads.writeRemote(key, entry, ttlSeconds, tags)) === 'unreached') {
      this.missed?.add(key);
    }
    await this.announce([key]);
  }

  /**
   * Warming: put freshly loaded values in this process's L1 and in L2 (version-guarded, so a
   * newer value already cached wins). Unlike `set`, nothing is broadcast: warming is not a
   * change, and every process warms its own L1.
   */
  async warm(entries: Array<[string, T]>): Promise<void> {
    await Promise.all(entries.map(([key, value]) => this.reads.store(key, value)));
  }

  /**
   * Invalidate every key set with `tag`: in L2 (the tag set is drained in batches and removed)
   * and in every process's L1 (each drops the keys it tagged, plus the keys found in L2).
   */
  async invalidateTag(tag: string): Promise<void> {
    const keys = await this.tags.invalidate(tag);
    await this.options.bus?.publish(this.name, keys, [tag]);
  }

  /** Invalidate a key in L2 and in every process's L1. */
  async delete(key: string): Promise<void> {
    await this.deleteMany([key]);
  }

  /** Invalidate keys in L2 (one call) and in every process's L1 (one message). */
  async deleteMany(keys: string[]): Promise<void> {
    if (keys.length === 0) {
      return;
    }
    keys.forEach((key) => this.local?.delete(key));
    if (this.remote && !(await this.remote.delete(keys))) {
      keys.forEach((key) => this.missed?.add(key));
    }
    await this.announce(keys);
  }

  /** Empty this process's L1 only: L2 and the other processes keep what they hold. */
  clearLocal(): void {
    this.local?.clear();
  }

  private async announce(keys: string[]): Promise<void> {
    await this.options.bus?.publish(this.name, keys);
  }
}
