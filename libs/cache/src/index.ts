/**
 * @murmur/cache — the multi-layer cache every service uses: L1 in-process (bounded LRU with TTL)
 * → L2 Redis → source. Cache-aside/read-through via `getOrSet` with single flight per key,
 * version-guarded write-through via `set`, invalidation via `delete` broadcast to every
 * process's L1 over Redis pub/sub (TTL is the backstop), negative caching of "not found".
 * A Redis failure degrades to the source; it never fails the read.
 */
export * from './cache';
export * from './invalidation-bus';
export * from './cache.module';
