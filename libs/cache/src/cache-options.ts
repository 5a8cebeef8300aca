import type { L2BreakerOptions } from './breaker';
import type { ValueSchema } from './entry-codec';
import type { InvalidationBus } from './invalidation-bus';
import type { L2Client } from './redis-remote-cache';
import type { RemoteCache } from './remote-cache';

export interface CacheOptions<T> {
  name: string;
  ttlSeconds: number;
  /** how long "not found" is remembered; 0 disables negative caching */
  negativeTtlSeconds: number;
  /**
   * L1 is bounded twice: by entries and by bytes (the UTF-8 length of each value's JSON, so a few
   * huge values cannot crowd the heap). Least recently used goes first; the TTL caps staleness.
   */
  l1: { enabled: boolean; maxEntries: number; maxBytes?: number; ttlSeconds?: number };
  /** the L2 Redis connection, used through a `RedisRemoteCache`; undefined disables L2 */
  l2?: L2Client;
  /** circuit breaker around L2: while open, reads go straight to the source without a timeout */
  l2Breaker?: Partial<L2BreakerOptions>;
  /**
   * What the values look like: an entry read from `l2` is checked against it before it is used
   * or copied into L1, and one that fails reads as a miss (`EntryCodec`). Required through
   * `CacheFactory.create`; without it only the envelope is checked. A `remote` checks with its
   * own.
   */
  schema?: ValueSchema<T>;
  /** another remote layer behind the port instead of `l2` (tests pass an in-memory one) */
  remote?: RemoteCache<T>;
  bus?: InvalidationBus;
  /**
   * A monotonically increasing version of a value (e.g. updated_at in ms). With it, L2 refuses to
   * replace a newer value with an older one, so a slow reader that loaded before a write cannot
   * re-cache the old value after the write-through. Default: the clock at the write.
   */
  versionOf?: (value: T) => number;
  /**
   * XFetch (probabilistic early expiration, Vattani et al.): a read refreshes the value in the
   * background with a probability that rises as expiry nears and with how long the load took,
   * so one reader, not a stampede, reloads a hot key. `beta` > 1 favours earlier refreshes;
   * 0 switches it off. Default 1.
   */
  xfetchBeta?: number;
  /**
   * Refresh-ahead for hot keys: a read in the last `refreshAheadRatio` of the TTL (0.2 = last
   * 20%) reloads in the background, so a key read steadily never expires under its readers.
   * 0 (default) switches it off.
   */
  refreshAheadRatio?: number;
  /**
   * A tagged load that started less than this long after an invalidation of one of its tags is
   * returned but not cached: it may have read a replica that had not yet replayed the change the
   * invalidation announced, or started before the change. Default 1000 ms.
   */
  tagGraceMs?: number;
  /** injected for tests: the clock (ms: expiries, versions, L1 TTL) and the random source (TTL
   * jitter, XFetch) */
  now?: () => number;
  random?: () => number;
}
