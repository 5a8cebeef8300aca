import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { CacheConfig } from '@murmur/config';
import { CACHE_REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import { Cache } from './cache';
import type { CacheOptions } from './cache-options';
import { InvalidationBus } from './invalidation-bus';
import { DEFAULT_MEMCACHED_CLUSTER, MemcachedCluster } from './memcached-cluster';
import { MemcachedRemoteCache } from './memcached-remote-cache';
import { RedisTags } from './redis-tags';

/**
 * A named cache. `schema` is required: whoever can write to the cache Redis or Memcached decides
 * what a read finds there, so every entry read from L2 is checked against it (`EntryCodec`).
 */
export type NamedCacheOptions<T> = Pick<CacheOptions<T>, 'name' | 'versionOf'> &
  Required<Pick<CacheOptions<T>, 'schema'>> &
  Partial<Pick<CacheOptions<T>, 'ttlSeconds' | 'negativeTtlSeconds'>>;

/**
 * Creates named caches that share the process's L2 (the cache Redis, or the Memcached nodes),
 * invalidation bus and switches. With `CACHE_L2_BACKEND=memcached` the entries go to Memcached,
 * while tags and the bus stay on the cache Redis: Memcached has neither sets nor pub/sub.
 */
@Injectable()
export class CacheFactory implements OnModuleInit, OnApplicationShutdown {
  readonly bus: InvalidationBus;
  private readonly memcached?: MemcachedCluster;

  constructor(
    @Inject(CACHE_REDIS) private readonly redis: Redis,
    @Inject('CACHE_CONFIG') private readonly config: CacheConfig,
  ) {
    this.bus = new InvalidationBus(
      config.CACHE_L2_ENABLED || config.CACHE_L1_ENABLED ? redis : undefined,
    );
    if (config.CACHE_L2_ENABLED && config.CACHE_L2_BACKEND === 'memcached') {
      if (config.MEMCACHED_SERVERS.length === 0) {
        throw new Error('CACHE_L2_BACKEND=memcached needs MEMCACHED_SERVERS (host:port,…)');
      }
      this.memcached = new MemcachedCluster({
        ...DEFAULT_MEMCACHED_CLUSTER,
        servers: config.MEMCACHED_SERVERS,
        timeoutMs: config.MEMCACHED_TIMEOUT_MS,
      });
    }
  }

  async onModuleInit(): Promise<void> {
    await this.bus.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.memcached?.close();
    await this.bus.stop();
  }

  /**
   * With the Memcached L2: false while every node is marked down (the caches then read from
   * their sources). Undefined when L2 is the cache Redis or off.
   */
  get memcachedReachable(): boolean | undefined {
    return this.memcached && !this.memcached.allDown;
  }

  /** How many hot keys to warm at start-up (`CACHE_WARM_KEYS`, 0 = off). */
  get warmKeys(): number {
    return this.config.CACHE_L1_ENABLED || this.config.CACHE_L2_ENABLED
      ? this.config.CACHE_WARM_KEYS
      : 0;
  }

  create<T>(options: NamedCacheOptions<T>): Cache<T> {
    const cluster = this.memcached;
    return new Cache<T>({
      name: options.name,
      versionOf: options.versionOf,
      schema: options.schema,
      ttlSeconds: options.ttlSeconds ?? this.config.CACHE_DEFAULT_TTL_SECONDS,
      negativeTtlSeconds: options.negativeTtlSeconds ?? 5,
      l1: {
        enabled: this.config.CACHE_L1_ENABLED,
        maxEntries: this.config.CACHE_L1_MAX_ENTRIES,
        maxBytes: this.config.CACHE_L1_MAX_BYTES,
      },
      l2: this.config.CACHE_L2_ENABLED && !cluster ? this.redis : undefined,
      remote:
        cluster &&
        new MemcachedRemoteCache<T>({
          name: options.name,
          cluster,
          tags: RedisTags.forEntriesElsewhere(this.redis, options.name),
          schema: options.schema,
        }),
      bus: this.bus,
    });
  }
}

@Module({})
export class CacheModule {
  static forRoot(config: CacheConfig): DynamicModule {
    return {
      module: CacheModule,
      global: true,
      providers: [{ provide: 'CACHE_CONFIG', useValue: config }, CacheFactory],
      exports: [CacheFactory],
    };
  }
}
