import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import type { RedisConfig } from '@murmur/config';
import { Redis, type RedisOptions } from 'ioredis';

export const REDIS = Symbol('REDIS');
export const CACHE_REDIS = Symbol('CACHE_REDIS');

/** The data connection's command timeout when none is configured (REDIS_COMMAND_TIMEOUT_MS). */
export const DATA_COMMAND_TIMEOUT_MS = 300;

/**
 * Connection options by role. The data connection queues commands while reconnecting (a blip
 * should not fail a write) but gives each command `dataCommandTimeoutMs` (a stalled Redis keeps
 * its connections open and never answers); the cache connection fails faster still, so a cache
 * outage costs one short timeout before its breaker opens.
 */
export function createRedis(
  url: string,
  role: 'data' | 'cache',
  name: string,
  dataCommandTimeoutMs = DATA_COMMAND_TIMEOUT_MS,
): Redis {
  const common: RedisOptions = {
    connectionName: name,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  };
  const options: RedisOptions =
    role === 'data'
      ? { ...common, maxRetriesPerRequest: 3, commandTimeout: dataCommandTimeoutMs }
      : { ...common, maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: 250 };
  const client = new Redis(url, options);
  const logger = new Logger(`Redis:${role}`);
  let reported = false;
  client.on('error', (error: Error) => {
    if (!reported) {
      logger.warn(`${name}: ${error.message}`);
      reported = true;
    }
  });
  client.on('ready', () => {
    if (reported) {
      logger.log(`${name}: connected again`);
    }
    reported = false;
  });
  return client;
}

export async function pingRedis(client: Redis, timeoutMs = 500): Promise<boolean> {
  if (client.status !== 'ready') {
    return false;
  }
  try {
    const pong = await Promise.race([
      client.ping(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('timeout')), timeoutMs).unref(),
      ),
    ]);
    return pong === 'PONG';
  } catch {
    return false;
  }
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly data: Redis,
    @Optional() @Inject(CACHE_REDIS) private readonly cache?: Redis,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    const clients = this.cache ? [this.data, this.cache] : [this.data];
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

@Module({})
export class RedisModule {
  /**
   * The data connection always; the cache connection only for a process that caches
   * (`cache: true`): a worker that has no cache opens no connection to the cache Redis.
   */
  static forRoot(
    config: RedisConfig,
    appName: string,
    options: { cache: boolean } = { cache: true },
  ): DynamicModule {
    const cache = {
      provide: CACHE_REDIS,
      useFactory: () =>
        createRedis(config.CACHE_REDIS_URL ?? config.REDIS_URL, 'cache', `${appName}:cache`),
    };
    return {
      module: RedisModule,
      global: true,
      providers: [
        {
          provide: REDIS,
          useFactory: () =>
            createRedis(
              config.REDIS_URL,
              'data',
              `${appName}:data`,
              config.REDIS_COMMAND_TIMEOUT_MS,
            ),
        },
        ...(options.cache ? [cache] : []),
        RedisLifecycle,
      ],
      exports: options.cache ? [REDIS, CACHE_REDIS] : [REDIS],
    };
  }
}
