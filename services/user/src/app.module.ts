import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@murmur/auth';
import { CacheModule } from '@murmur/cache';
import { QUEUES } from '@murmur/contracts';
import { DatabaseModule, MAIN_CLUSTER, type ReplicatedCluster } from '@murmur/database';
import { databaseReadiness, HttpCoreModule, type ReadinessCheck } from '@murmur/http';
import { OutboxModule, QueueModule } from '@murmur/queue';
import { RateLimitModule } from '@murmur/rate-limit';
import { CACHE_REDIS, pingRedis, REDIS, RedisModule } from '@murmur/redis';
import type { Redis } from 'ioredis';
import type { UserConfig } from './config';
import { FollowsModule } from './follows/follows.module';
import { SessionsModule } from './sessions/sessions.module';
import { UsersModule } from './users/users.module';

@Module({})
export class AppModule {
  static forRoot(config: UserConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HttpCoreModule.forRoot({
          appName: config.INSTANCE_NAME,
          logLevel: config.LOG_LEVEL,
          readiness: {
            inject: [MAIN_CLUSTER, REDIS, CACHE_REDIS],
            useFactory: (main: ReplicatedCluster, redis: Redis, cache: Redis): ReadinessCheck[] => [
              ...databaseReadiness(main),
              { name: 'redis', critical: true, check: () => pingRedis(redis) },
              { name: 'cache', critical: false, check: () => pingRedis(cache) },
            ],
          },
        }),
        DatabaseModule.forRoot({ appName: config.INSTANCE_NAME, main: config }),
        RedisModule.forRoot(config, config.INSTANCE_NAME),
        CacheModule.forRoot(config),
        AuthModule.forRoot(config),
        RateLimitModule.forRoot(config),
        QueueModule.forRoot(config, config, [QUEUES.feed]),
        // Every user process relays the main database's outbox (follow events → the feed).
        OutboxModule.forRoot(config, 'main'),
        UsersModule.forRoot(config),
        SessionsModule.forRoot(config),
        FollowsModule,
      ],
    };
  }
}
