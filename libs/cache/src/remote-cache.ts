import type { CacheEntry } from './cache-entry';

/** `{ ok }` when the remote answered; undefined when it was not reached (down, breaker open). */
export type Reached<R> = { ok: R } | undefined;

/**
 * What a version-guarded write did: `stored`, `kept` (the remote holds a newer version, which
 * stays: not an error), or `unreached`.
 */
export type SetOutcome = 'stored' | 'kept' | 'unreached';

/** What the tag system needs of the remote: tag sets and the times of tag invalidations. */
export interface RemoteTags {
  /** Add `key` to the set of each tag, kept alive at least `ttlSeconds`. */
  addTags(key: string, tags: string[], ttlSeconds: number): Promise<void>;
  /** Take up to `max` keys out of the tag's set and delete their entries; returns those keys. */
  popTag(tag: string, max: number): Promise<Reached<string[]>>;
  /** Remember for `forMs` that `tag` was invalidated at `at` (epoch ms). */
  markTagInvalidated(tag: string, at: number, forMs: number): Promise<void>;
  /** The remembered invalidation times of those tags (none when not reached). */
  tagsInvalidatedAt(tags: string[]): Promise<number[]>;
}

/**
 * The remote layer (L2) shared by every process, as the cache sees it: entries by key with a
 * version guard, tags, and refresh leases. Failures never throw: a method that could not reach
 * the remote says so (`undefined`, `false`, nothing found) and the cache falls back to the source.
 * `RedisRemoteCache` is the adapter; unit tests use an in-memory fake of this port.
 */
export interface RemoteCache<T> extends RemoteTags {
  /** True while the remote is skipped because it failed (its breaker is open). */
  readonly open: boolean;
  /** `listener` runs each time the remote is reachable again after an outage. */
  onRecovered(listener: () => void): void;
  /** The entry of `key`; `{ ok: null }` when the remote has none. */
  get(key: string): Promise<Reached<CacheEntry<T> | null>>;
  /** The entry of each key, in order. */
  getMany(keys: string[]): Promise<Reached<Array<CacheEntry<T> | null>>>;
  /** Store `entry` for `ttlSeconds` unless the remote holds a newer version of the key. */
  setIfNewer(key: string, entry: CacheEntry<T>, ttlSeconds: number): Promise<SetOutcome>;
  /** False when the remote was not reached. */
  delete(keys: string[]): Promise<boolean>;
  /**
   * Before an early refresh of an entry that expires at `heldExpiry`: the remote's entry if it is
   * newer (another process refreshed it), else `'won'` when this process took the key's refresh
   * lease for `leaseMs` and should load, `'busy'` when another process holds it.
   */
  lease(
    key: string,
    heldExpiry: number,
    leaseMs: number,
  ): Promise<Reached<CacheEntry<T> | 'won' | 'busy'>>;
}
