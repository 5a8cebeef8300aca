import type { CacheConfig } from '@murmur/config';
import type { Redis } from 'ioredis';
import { CacheFactory } from './cache.module';

const config = (over: Partial<CacheConfig>): CacheConfig => ({
  CACHE_L1_ENABLED: true,
  CACHE_L2_ENABLED: true,
  CACHE_L2_BACKEND: 'redis',
  MEMCACHED_SERVERS: [],
  MEMCACHED_TIMEOUT_MS: 200,
  CACHE_L1_MAX_ENTRIES: 10,
  CACHE_L1_MAX_BYTES: 1024,
  CACHE_DEFAULT_TTL_SECONDS: 60,
  CACHE_WARM_KEYS: 0,
  ...over,
});

/** Never called: the factory only hands the connection on (no test here reaches L2). */
const redis = {} as Redis;

describe(CacheFactory.name, () => {
  it('refuses CACHE_L2_BACKEND=memcached without MEMCACHED_SERVERS, naming the variable', () => {
    expect(() => new CacheFactory(redis, config({ CACHE_L2_BACKEND: 'memcached' }))).toThrow(
      /MEMCACHED_SERVERS/,
    );
  });

  it('needs no Memcached nodes while L2 is off, whatever the backend', () => {
    expect(
      () =>
        new CacheFactory(redis, config({ CACHE_L2_BACKEND: 'memcached', CACHE_L2_ENABLED: false })),
    ).not.toThrow();
  });

  it('says whether the Memcached nodes are reachable only when they are the L2', () => {
    expect(new CacheFactory(redis, config({})).memcachedReachable).toBeUndefined();
    const sut = new CacheFactory(
      redis,
      config({ CACHE_L2_BACKEND: 'memcached', MEMCACHED_SERVERS: ['127.0.0.1:1'] }),
    );
    // nothing called yet: no node is marked down
    expect(sut.memcachedReachable).toBe(true);
  });
});
