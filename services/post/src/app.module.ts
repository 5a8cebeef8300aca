import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@murmur/auth';
import { CacheModule } from '@murmur/cache';
import { QUEUES } from '@murmur/contracts';
import { DatabaseModule, SHARD_ROUTER, type ShardRouter } from '@murmur/database';
import { databaseReadiness, HttpCoreModule, type ReadinessCheck } from '@murmur/http';
import { OutboxModule, QueueModule } from '@murmur/queue';
import { RateLimitModule } from '@murmur/rate-limit';
import { CACHE_REDIS, pingRedis, REDIS, RedisModule } from '@murmur/redis';
import type { Redis } from 'ioredis';
import type { PostConfig, PostWorkerConfig } from './config';
import { LikesFlushModule } from './likes/likes.module';
import { PostsModule } from './posts/posts.module';

const readiness = {
  inject: [SHARD_ROUTER, REDIS, CACHE_REDIS],
  useFactory: (router: ShardRouter, redis: Redis, cache: Redis): ReadinessCheck[] => [
    ...router.clusters.flatMap(databaseReadiness),
    { name: 'redis', critical: true, check: () => pingRedis(redis) },
    { name: 'cache', critical: false, check: () => pingRedis(cache) },
  ],
};

@Module({})
export class AppModule {
  static forRoot(config: PostConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HttpCoreModule.forRoot({
          appName: config.INSTANCE_NAME,
          logLevel: config.LOG_LEVEL,
          readiness,
        }),
        DatabaseModule.forRoot({ appName: config.INSTANCE_NAME, shards: config }),
        RedisModule.forRoot(config, config.INSTANCE_NAME),
        CacheModule.forRoot(config),
        AuthModule.forRoot(config),
        RateLimitModule.forRoot(config),
        QueueModule.forRoot(config, config, [QUEUES.feed, QUEUES.leaderboard, QUEUES.likes]),
        // Every post process relays the shards' outboxes (post.created → fan-out and score).
        OutboxModule.forRoot(config, 'shards'),
        PostsModule.forRoot(config),
      ],
    };
  }
}

/** The post worker: write-behind flushes of likes; HTTP only for health and metrics. */
@Module({})
export class WorkerModule {
  static forRoot(config: PostWorkerConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        HttpCoreModule.forRoot({
          appName: config.INSTANCE_NAME,
          logLevel: config.LOG_LEVEL,
          readiness,
        }),
        DatabaseModule.forRoot({ appName: config.INSTANCE_NAME, shards: config }),
        RedisModule.forRoot(config, config.INSTANCE_NAME),
        QueueModule.forRoot(config, config, [QUEUES.likes]),
        LikesFlushModule.forRoot(config),
      ],
    };
  }
}
