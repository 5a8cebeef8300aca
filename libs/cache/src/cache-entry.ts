/** What the cache holds for a key: in L1 as is, in L2 as its JSON. */
export interface CacheEntry<T> {
  /** null = cached "not found" */
  v: T | null;
  ver: number;
  /** how long the load took (ms), for XFetch */
  d?: number;
  /** when the value expires (epoch ms), for XFetch and refresh-ahead */
  exp?: number;
}

/** The clock (ms) and the random source every time- or chance-dependent decision goes through. */
export interface CacheClock {
  now: () => number;
  random: () => number;
}

export const SYSTEM_CLOCK: CacheClock = { now: () => Date.now(), random: () => Math.random() };

/** ±10% so that keys written together do not all expire together. */
export function jitter(seconds: number, random: () => number): number {
  return seconds * (0.9 + random() * 0.2);
}

export interface EntryPolicy<T> {
  ttlSeconds: number;
  /** how long "not found" is remembered; 0 disables negative caching */
  negativeTtlSeconds: number;
  /** defaults to the clock: the later write wins */
  versionOf?: (value: T) => number;
}

/** Builds the entries to cache: jittered TTL, version, expiry, all from the injected clock. */
export class CacheEntries<T> {
  constructor(
    private readonly policy: EntryPolicy<T>,
    private readonly clock: CacheClock,
  ) {}

  /** False when "not found" is not to be cached at all. */
  get cachesNotFound(): boolean {
    return this.policy.negativeTtlSeconds > 0;
  }

  /** The entry for `value` (null = "not found") and its TTL in seconds. */
  entryOf(value: T | null, tookMs?: number): { entry: CacheEntry<T>; ttlSeconds: number } {
    const ttlSeconds =
      value === null
        ? this.policy.negativeTtlSeconds
        : jitter(this.policy.ttlSeconds, this.clock.random);
    const entry: CacheEntry<T> = {
      v: value,
      ver: value === null ? 0 : this.versionOf(value),
      d: tookMs,
      exp: this.clock.now() + ttlSeconds * 1000,
    };
    return { entry, ttlSeconds };
  }

  private versionOf(value: T): number {
    return this.policy.versionOf ? this.policy.versionOf(value) : this.clock.now();
  }
}
