/**
 * @murmur/cache — the multi-layer cache every service uses: L1 in-process (bounded LRU with TTL)
 * → L2 (Redis, or Memcached nodes with client-side consistent hashing) → source. Cache-aside and
 * read-through via `getOrSet` with single flight per key, `getMany` (L1, one multi-get, one
 * source call), XFetch early refresh and refresh-ahead off the request path, version-guarded
 * write-through via `set`, invalidation by key (`delete`) and by tag (`invalidateTag`) broadcast
 * to every process's L1 over Redis pub/sub (TTL is the backstop), negative caching of "not
 * found". L2 failures degrade to the source; they never fail the read. `Cache` is a facade over
 * small parts (see `cache.ts`); L2 is reached through the `RemoteCache` port: `RedisRemoteCache`
 * (behind a circuit breaker), or `MemcachedRemoteCache` over a `MemcachedCluster`
 * (`CACHE_L2_BACKEND=memcached`: nodes marked down and skipped; its tags stay in Redis,
 * `RedisTags`). Entries read from L2 are checked against the cache's schema (`EntryCodec`): one
 * that fails is a miss, deleted and replaced from the source.
 */
export { Cache } from './cache';
export type { CacheOptions } from './cache-options';
export type { CacheClock, CacheEntry } from './cache-entry';
export { EntryCodec, type InvalidReason, type ValueSchema } from './entry-codec';
export { DEFAULT_L2_BREAKER, type L2BreakerOptions } from './breaker';
export type { Reached, RemoteCache, RemoteTags } from './remote-cache';
export {
  RedisRemoteCache,
  type L2Client,
  type RedisRemoteCacheOptions,
} from './redis-remote-cache';
export { MemcachedRemoteCache, type MemcachedRemoteCacheOptions } from './memcached-remote-cache';
export {
  DEFAULT_MEMCACHED_CLUSTER,
  MemcachedCluster,
  type MemcachedClusterOptions,
} from './memcached-cluster';
export { RedisTags } from './redis-tags';
export * from './invalidation-bus';
export * from './cache.module';
export * from './warm';
export * from './cache.metrics';
