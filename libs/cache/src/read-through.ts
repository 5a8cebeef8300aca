import { cacheLoadDurationSeconds, cacheLoadsTotal, cacheRequestsTotal } from './cache.metrics';
import type { CacheClock, CacheEntries, CacheEntry } from './cache-entry';
import type { LocalCache } from './local-cache';
import type { RefreshPolicy } from './refresh-policy';
import type { RemoteCache, SetOutcome } from './remote-cache';
import type { TagSystem } from './tag-system';

export type Loader<T> = () => Promise<T | null>;

export interface ReadThroughParts<T> {
  cacheName: string;
  entries: CacheEntries<T>;
  local?: LocalCache<T>;
  remote?: RemoteCache<T>;
  tags: TagSystem;
  refresh: RefreshPolicy<T>;
  clock: CacheClock;
}

/**
 * The read path (bentocache's get/set handler): L1, then L2, then the source, once per key per
 * process at a time (single flight), storing what it loaded in both layers; early refreshes are
 * started here and run by the refresh policy.
 */
export class ReadThrough<T> {
  private readonly inflight = new Map<string, Promise<T | null>>();

  constructor(private readonly parts: ReadThroughParts<T>) {}

  async getOrSet(
    key: string,
    loader: Loader<T>,
    read: { bypassL1?: boolean; tags?: string[] },
  ): Promise<T | null> {
    // A caller who just wrote may be on a process whose L1 has not yet heard the invalidation:
    // skip L1 for them (L2 holds the write-through value).
    const local = read.bypassL1 ? undefined : this.parts.local?.get(key);
    if (local) {
      this.served(key, local, loader, read.tags);
      return local.v;
    }
    const pending = this.inflight.get(key);
    if (pending) {
      cacheLoadsTotal.inc({ cache: this.parts.cacheName, outcome: 'collapsed' });
      return pending;
    }
    const load = this.loadThrough(key, loader, read.tags).finally(() => this.inflight.delete(key));
    this.inflight.set(key, load);
    return load;
  }

  /**
   * Multi-get: L1 for every key, then one read of L2 for the L1 misses, then one `loadMissing`
   * call for what neither layer had.
   */
  async getMany(
    keys: string[],
    loadMissing: (missing: string[]) => Promise<Map<string, T>>,
  ): Promise<Map<string, T | null>> {
    const result = new Map<string, T | null>();
    let missing: string[] = [];
    for (const key of new Set(keys)) {
      const local = this.parts.local?.get(key);
      if (local) {
        result.set(key, local.v);
      } else {
        missing.push(key);
      }
    }
    const remote = missing.length > 0 ? await this.parts.remote?.getMany(missing) : undefined;
    if (remote) {
      missing = missing.filter((key, i) => {
        const entry = remote.ok[i] ?? null;
        this.countL2(entry);
        if (!entry) {
          return true;
        }
        if (entry.v !== null) {
          this.parts.local?.set(key, entry);
        }
        result.set(key, entry.v);
        return false;
      });
    }
    if (missing.length === 0) {
      return result;
    }
    const loaded = await loadMissing(missing);
    cacheLoadsTotal.inc({ cache: this.parts.cacheName, outcome: 'loaded' }, missing.length);
    // Absent keys are not cached: a multi-get asks for ids it was handed (a timeline page), so
    // "not found" there most likely means a replica that has not replayed the insert yet, and
    // remembering it would hide a new post for the negative TTL.
    await Promise.all(
      missing.map((key) => {
        const value = loaded.get(key) ?? null;
        result.set(key, value);
        return value === null ? Promise.resolve() : this.store(key, value);
      }),
    );
    return result;
  }

  /**
   * Write `entry` to L2 and, once it is there, tag it. `unreached` also when there is no L2;
   * `kept` when L2 holds a newer version, and then this process's L1 must not hold `entry`
   * either: it is dropped, so the next read takes L2's.
   */
  async writeRemote(
    key: string,
    entry: CacheEntry<T>,
    ttlSeconds: number,
    tags: string[],
  ): Promise<SetOutcome> {
    const outcome = (await this.parts.remote?.setIfNewer(key, entry, ttlSeconds)) ?? 'unreached';
    if (outcome === 'stored') {
      await this.parts.tags.tagRemote(key, tags, ttlSeconds);
    } else if (outcome === 'kept' && this.parts.local?.peek(key) === entry) {
      this.parts.local.delete(key);
    }
    return outcome;
  }

  /**
   * Put `entry` in this process's L1 with its tags, unless L1 holds a newer version: a load or a
   * refresh may have read a lagging replica (L2's guard refuses it too). False when refused.
   */
  setLocal(key: string, entry: CacheEntry<T>, tags: string[]): boolean {
    const { local } = this.parts;
    const current = local?.peek(key);
    if (!local || (current && current.ver > entry.ver)) {
      return false;
    }
    local.set(key, entry);
    this.parts.tags.tagLocal(key, tags);
    return true;
  }

  /** Cache a freshly loaded value (or "not found", for the negative TTL). */
  async store(
    key: string,
    value: T | null,
    options: { tookMs?: number; tags?: string[]; skipRemote?: boolean } = {},
  ): Promise<void> {
    const { entries } = this.parts;
    if (value === null && !entries.cachesNotFound) {
      return;
    }
    const { entry, ttlSeconds } = entries.entryOf(value, options.tookMs);
    if (value !== null) {
      this.setLocal(key, entry, options.tags ?? []);
    }
    if (!options.skipRemote) {
      await this.writeRemote(key, entry, ttlSeconds, value === null ? [] : (options.tags ?? []));
    }
  }

  private async loadThrough(key: string, loader: Loader<T>, tags?: string[]): Promise<T | null> {
    const remote = await this.parts.remote?.get(key);
    const entry = remote?.ok ?? null;
    if (remote) {
      this.countL2(entry);
    }
    if (entry) {
      // A cached "not found" stays in L2 only, for its short TTL: in L1 it would live for the L1
      // TTL (minutes), hiding a row that a lagging replica had not yet shown the first reader.
      if (entry.v !== null) {
        this.parts.local?.set(key, entry);
        // L2 already has the key in its tag sets; this process's L1 must learn the tags too.
        this.parts.tags.tagLocal(key, tags ?? []);
      }
      this.served(key, entry, loader, tags);
      return entry.v;
    }
    // L2 was not reached for this very read: do not make the caller wait for a second timeout
    // to store the value there (it is still stored in L1).
    return this.loadFromSource(key, loader, 'loaded', tags, remote === undefined);
  }

  private async loadFromSource(
    key: string,
    loader: Loader<T>,
    outcome: 'loaded' | 'early',
    tags?: string[],
    skipRemote = false,
  ): Promise<T | null> {
    const { cacheName, clock } = this.parts;
    const started = clock.now();
    const value = await loader();
    const tookMs = clock.now() - started;
    cacheLoadsTotal.inc({ cache: cacheName, outcome });
    cacheLoadDurationSeconds.observe({ cache: cacheName }, tookMs / 1000);
    if (tags && tags.length > 0 && (await this.parts.tags.invalidatedSince(tags, started))) {
      cacheLoadsTotal.inc({ cache: cacheName, outcome: 'uncached' });
      return value;
    }
    await this.store(key, value, { tookMs, tags, skipRemote });
    return value;
  }

  /** A cached value is served: refresh it early if it is due, and count it if it is stale. */
  private served(key: string, entry: CacheEntry<T>, loader: Loader<T>, tags?: string[]): void {
    const { refresh } = this.parts;
    refresh.maybeRefresh(key, entry, () => this.loadFromSource(key, loader, 'early', tags));
    refresh.countServed(key);
  }

  private countL2(entry: CacheEntry<T> | null): void {
    const result = entry ? 'hit' : 'miss';
    cacheRequestsTotal.inc({ cache: this.parts.cacheName, layer: 'l2', result });
  }
}
