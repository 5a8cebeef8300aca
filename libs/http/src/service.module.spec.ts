import type { DynamicModule, FactoryProvider } from '@nestjs/common';
import { type CacheFactory, CacheModule } from '@murmur/cache';
import { entryPointConfig, loadConfig } from '@murmur/config';
import { QUEUES } from '@murmur/contracts';
import type { ReplicatedCluster } from '@murmur/database';
import { DatabaseModule } from '@murmur/database';
import { OutboxModule, QueueModule } from '@murmur/queue';
import { RateLimitModule } from '@murmur/rate-limit';
import { RedisModule } from '@murmur/redis';
import { AuthModule } from '@murmur/auth';
import type { Redis } from 'ioredis';
import { HttpCoreModule } from './http-core.module';
import { READINESS_CHECKS, type ReadinessCheck } from './readiness';
import { ServiceModule } from './service.module';

const env = {
  SERVICE_NAME: 'post',
  PORT: '3000',
  REDIS_URL: 'redis://127.0.0.1:6379',
  DATABASE_URL: 'postgres://a@main/murmur',
  SHARDS: '[{"primary":"postgres://a@s0/p"},{"primary":"postgres://a@s1/p"}]',
};

/** Modules are only described here: nothing connects until Nest initialises them. */
const compose = (
  parts: Parameters<typeof entryPointConfig>[0],
  queues?: (typeof QUEUES.feed)[],
  databaseReadiness?: boolean,
) => {
  const entry = entryPointConfig(parts);
  return ServiceModule.forRoot(entry, loadConfig(entry.schema, env), {
    queues,
    features: [],
    databaseReadiness,
  });
};

const modules = (root: DynamicModule) =>
  (root.imports as DynamicModule[]).map((m) => m.module.name);

/** The readiness checks the composition would build, given what the injector would hand it. */
const readiness = (
  root: DynamicModule,
  clusters: string[] | undefined,
  caches?: Pick<CacheFactory, 'memcachedReachable'>,
): string[] => {
  const http = (root.imports as DynamicModule[]).find((m) => m.module === HttpCoreModule);
  const provider = http?.providers?.find(
    (p): p is FactoryProvider =>
      typeof p === 'object' && 'provide' in p && p.provide === READINESS_CHECKS,
  );
  const redis = { status: 'ready', ping: () => Promise.resolve('PONG') } as unknown as Redis;
  const opened = clusters?.map(
    (name) =>
      ({ name, health: () => ({ reachable: 1, nodes: [] }) }) as unknown as ReplicatedCluster,
  );
  const checks = provider?.useFactory(opened, redis, redis, caches) as ReadinessCheck[];
  return checks.map((c) => `${c.name}${c.critical ? '' : ' (not critical)'}`);
};

describe(ServiceModule.name, () => {
  it('starts the shared parts its entry point names, in order, and no others', () => {
    expect(
      modules(
        compose(
          ['mainDatabase', 'cache', 'sessions', 'rateLimits', 'queues', 'outbox'],
          [QUEUES.feed],
        ),
      ),
    ).toEqual([
      HttpCoreModule.name,
      DatabaseModule.name,
      RedisModule.name,
      CacheModule.name,
      AuthModule.name,
      RateLimitModule.name,
      QueueModule.name,
      OutboxModule.name,
    ]);
    expect(modules(compose(['sessions']))).toEqual([
      HttpCoreModule.name,
      RedisModule.name,
      AuthModule.name,
    ]);
  });

  it('checks every cluster the database module opened, the data Redis, and the cache Redis only where it caches', () => {
    expect(readiness(compose(['mainDatabase', 'cache']), ['main'])).toEqual([
      'postgres-main',
      'postgres-main-primary (not critical)',
      'redis',
      'cache (not critical)',
    ]);
    expect(readiness(compose(['shards', 'queues'], [QUEUES.feed]), ['shard-0', 'shard-1'])).toEqual(
      [
        'postgres-shard-0',
        'postgres-shard-0-primary (not critical)',
        'postgres-shard-1',
        'postgres-shard-1-primary (not critical)',
        'redis',
      ],
    );
    // no database part: no database module, and the injector has no clusters to give
    expect(readiness(compose(['sessions']), undefined)).toEqual(['redis']);
    // with the Memcached L2, its nodes too (not critical); with Redis as L2, nothing more
    expect(
      readiness(compose(['mainDatabase', 'cache']), ['main'], { memcachedReachable: true }),
    ).toContain('memcached (not critical)');
    expect(
      readiness(compose(['mainDatabase', 'cache']), ['main'], { memcachedReachable: undefined }),
    ).not.toContain('memcached (not critical)');
    // databases read only now and then (the feed worker's rebuild) can be left out
    const rebuilder = compose(['mainDatabase', 'queues'], [QUEUES.feed], false);
    expect(readiness(rebuilder, ['main'])).toEqual(['redis']);
  });

  it('refuses queues without the queues part, and the part without its queues', () => {
    expect(() => compose(['sessions'], [QUEUES.feed])).toThrow(/queues part/);
    expect(() => compose(['queues'])).toThrow(/queues part/);
  });
});
