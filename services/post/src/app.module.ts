import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@murmur/auth';
import { CacheModule } from '@murmur/cache';
import { QUEUES } from '@murmur/contracts';
import { DatabaseModule, SHARD_ROUTER, type ShardRouter } from '@murmur/database';
import { HttpCoreModule, type ReadinessCheck } from '@murmur/http';
import { QueueModule } from '@murmur/queue';
import { RateLimitModule } from '@murmur/rate-limit';
import { CACHE_REDIS, pingRedis, REDIS, RedisModule } from '@murmur/redis';
import type { Redis } from 'ioredis';
import type { PostConfig } from './config';
import { PostsModule } from './posts/posts.module';

@Module({})
export class AppModule {
  static forRoot(config: PostConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HttpCoreModule.forRoot({
          appName: config.INSTANCE_NAME,
          logLevel: config.LOG_LEVEL,
          readiness: {
            inject: [SHARD_ROUTER, REDIS, CACHE_REDIS],
            useFactory: (router: ShardRouter, redis: Redis, cache: Redis): ReadinessCheck[] => [
              ...router.clusters.map((c) => ({
                name: `postgres-${c.name}`,
                critical: true,
                check: () => c.primary.query('SELECT 1').then(() => true),
              })),
              { name: 'redis', critical: true, check: () => pingRedis(redis) },
              { name: 'cache', critical: false, check: () => pingRedis(cache) },
            ],
          },
        }),
        DatabaseModule.forRoot({ appName: config.INSTANCE_NAME, shards: config }),
        RedisModule.forRoot(config, config.INSTANCE_NAME),
        CacheModule.forRoot(config),
        AuthModule.forRoot(config),
        RateLimitModule.forRoot(config),
        QueueModule.forRoot(config, config, [QUEUES.feed, QUEUES.leaderboard]),
        PostsModule.forRoot(config),
      ],
    };
  }
}
