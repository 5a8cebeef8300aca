import { type DynamicModule, type ForwardReference, Module, type Type } from '@nestjs/common';
import { AuthModule } from '@murmur/auth';
import { CacheFactory, CacheModule } from '@murmur/cache';
import type {
  CacheConfig,
  ConfigPart,
  EntryPointConfig,
  MainDatabaseConfig,
  OutboxConfig,
  ProcessConfig,
  QueueConfig,
  RateLimitConfig,
  RedisConfig,
  SessionConfig,
  ShardDatabaseConfig,
} from '@murmur/config';
import type { QueueName } from '@murmur/contracts';
import { DATABASE_CLUSTERS, DatabaseModule, type ReplicatedCluster } from '@murmur/database';
import { OutboxModule, QueueModule } from '@murmur/queue';
import { RateLimitModule } from '@murmur/rate-limit';
import type { Telemetry } from '@murmur/observability';
import { CACHE_REDIS, pingRedis, REDIS, RedisModule } from '@murmur/redis';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Redis } from 'ioredis';
import { createHttpApp, type HttpAppOptions } from './create-http-app';
import { HttpCoreModule, type HttpCoreOptions } from './http-core.module';
import { databaseReadiness, type ReadinessCheck } from './readiness';

export type FeatureImport = Type | DynamicModule | Promise<DynamicModule> | ForwardReference;

export interface ServiceOptions {
  /** with the `queues` part: the queues this process enqueues to or processes */
  queues?: readonly QueueName[];
  /** the process's own features, after the shared parts */
  features: FeatureImport[];
  /**
   * false: the databases it opens are not checked for readiness (a process that reads them only
   * now and then must not leave service when a cluster is unreachable); default true
   */
  databaseReadiness?: boolean;
}

/**
 * Readiness from what the process runs: each cluster the database module opened (none without a
 * database part), the data Redis, and the cache Redis when the process caches (not critical), and
 * with the Memcached L2 its nodes (not critical: degraded only when every node is marked down).
 */
function readiness(usesDatabases: boolean, usesCache: boolean): HttpCoreOptions['readiness'] {
  return {
    inject: [
      { token: DATABASE_CLUSTERS, optional: true },
      REDIS,
      { token: CACHE_REDIS, optional: true },
      { token: CacheFactory, optional: true },
    ],
    useFactory: (
      clusters: ReplicatedCluster[] | undefined,
      redis: Redis,
      cache: Redis | undefined,
      caches: CacheFactory | undefined,
    ): ReadinessCheck[] => [
      ...(usesDatabases ? (clusters ?? []) : []).flatMap(databaseReadiness),
      { name: 'redis', critical: true, check: () => pingRedis(redis) },
      ...(usesCache && cache
        ? [{ name: 'cache', critical: false, check: () => pingRedis(cache) }]
        : []),
      ...(usesCache && caches?.memcachedReachable !== undefined
        ? [
            {
              name: 'memcached',
              critical: false,
              check: () => Promise.resolve(caches.memcachedReachable === true),
            },
          ]
        : []),
    ],
  };
}

/**
 * The composition root of every Murmur process: logging, health and metrics, the Redis
 * connections, and the shared parts its entry point's config names (`entryPointConfig` in
 * `@murmur/config`), each started from the variables that config validated; then its features.
 */
@Module({})
export class ServiceModule {
  static forRoot<P extends ConfigPart, C extends ProcessConfig>(
    entry: EntryPointConfig<P, C>,
    config: C,
    options: ServiceOptions,
  ): DynamicModule {
    const parts = new Set<ConfigPart>(entry.parts);
    // `entry.schema` validated the variables of every part in `parts`, so `config` holds them.
    const part = <T>(name: ConfigPart): T | undefined =>
      parts.has(name) ? (config as unknown as T) : undefined;
    if (parts.has('rateLimits') && !parts.has('sessions')) {
      // the per-caller limit keys a request by its session's user
      throw new Error('a service with the rateLimits part needs the sessions part');
    }
    if (parts.has('queues') !== (options.queues !== undefined)) {
      throw new Error('a service names its queues exactly when it runs the queues part');
    }
    const main = part<MainDatabaseConfig>('mainDatabase');
    const shards = part<ShardDatabaseConfig>('shards');
    const cache = part<CacheConfig>('cache');
    const sessions = part<SessionConfig>('sessions');
    const rateLimits = part<RateLimitConfig>('rateLimits');
    const queues = part<QueueConfig & RedisConfig>('queues');
    const outbox = part<OutboxConfig>('outbox');
    const app = config.INSTANCE_NAME;
    return {
      module: ServiceModule,
      imports: [
        HttpCoreModule.forRoot({
          appName: app,
          logLevel: config.LOG_LEVEL,
          readiness: readiness(options.databaseReadiness ?? true, cache !== undefined),
        }),
        ...(main || shards ? [DatabaseModule.forRoot({ appName: app, main, shards })] : []),
        RedisModule.forRoot(config, app, { cache: cache !== undefined }),
        ...(cache ? [CacheModule.forRoot(cache)] : []),
        ...(sessions ? [AuthModule.forRoot(sessions)] : []),
        ...(rateLimits ? [RateLimitModule.forRoot(rateLimits, config.SERVICE_NAME)] : []),
        ...(queues ? [QueueModule.forRoot(queues, options.queues ?? [])] : []),
        // relays the outboxes of the databases opened above (post.created, follow events)
        ...(outbox ? [OutboxModule.forRoot(outbox)] : []),
        ...options.features,
      ],
    };
  }
}

/**
 * A process's composition from its entry point's config: `features` gets the validated config
 * (typed by the entry point) and names the process's queues and feature modules.
 */
export function defineService<P extends ConfigPart, C extends ProcessConfig>(
  entry: EntryPointConfig<P, C>,
  options: (config: C) => ServiceOptions,
): (config: C) => DynamicModule {
  return (config) => ServiceModule.forRoot(entry, config, options(config));
}

/** Start a process composed by `ServiceModule`; its telemetry is flushed once the app has closed. */
export function startService(
  module: DynamicModule,
  config: ProcessConfig,
  telemetry: Pick<Telemetry, 'shutdown'>,
  beforeListen?: HttpAppOptions['beforeListen'],
): Promise<NestFastifyApplication> {
  return createHttpApp(module, { config, beforeListen, afterClose: () => telemetry.shutdown() });
}
