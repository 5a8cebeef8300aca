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

export type NamedCacheOptions<T> = Pick<CacheOptions<T>, 'name' | 'versionOf'> &
  Partial<Pick<CacheOptions<T>, 'ttlSeconds' | 'negativeTtlSeconds'>>;

/** Creates named caches that share the process's L2 connection, invalidation bus and switches. */
@Injectable()
export class CacheFactory implements OnModuleInit, OnApplicationShutdown {
  readonly bus: InvalidationBus;

  constructor(
    @Inject(CACHE_REDIS) private readonly redis: Redis,
    @Inject('CACHE_CONFIG') private readonly config: CacheConfig,
  ) {
    this.bus = new InvalidationBus(
      config.CACHE_L2_ENABLED || config.CACHE_L1_ENABLED ? redis : undefined,
    );
  }

  async onModuleInit(): Promise<void> {
    await this.bus.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.stop();
  }

  /** How many hot keys to warm at start-up (`CACHE_WARM_KEYS`, 0 = off). */
  get warmKeys(): number {
    return this.config.CACHE_L1_ENABLED || this.config.CACHE_L2_ENABLED
      ? this.config.CACHE_WARM_KEYS
      : 0;
  }

  create<T>(options: NamedCacheOptions<T>): Cache<T> {
    return new Cache<T>({
      name: options.name,
      versionOf: options.versionOf,
      ttlSeconds: options.ttlSeconds ?? this.config.CACHE_DEFAULT_TTL_SECONDS,
      negativeTtlSeconds: options.negativeTtlSeconds ?? 5,
      l1: {
        enabled: this.config.CACHE_L1_ENABLED,
        maxEntries: this.config.CACHE_L1_MAX_ENTRIES,
        maxBytes: this.config.CACHE_L1_MAX_BYTES,
      },
      l2: this.config.CACHE_L2_ENABLED ? this.redis : undefined,
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
