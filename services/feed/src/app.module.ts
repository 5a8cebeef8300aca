import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@murmur/auth';
import { QUEUES } from '@murmur/contracts';
import { DatabaseModule } from '@murmur/database';
import { HttpCoreModule, type ReadinessCheck } from '@murmur/http';
import { QueueModule } from '@murmur/queue';
import { RateLimitModule } from '@murmur/rate-limit';
import { pingRedis, REDIS, RedisModule } from '@murmur/redis';
import type { Redis } from 'ioredis';
import type { FeedServiceConfig, FeedWorkerConfig } from './config';
import { FanoutModule } from './fanout/fanout.module';
import { FeedModule } from './feed/feed.module';
import { RebuildModule } from './rebuild/rebuild.module';

const readiness = {
  inject: [REDIS],
  useFactory: (redis: Redis): ReadinessCheck[] => [
    { name: 'redis', critical: true, check: () => pingRedis(redis) },
  ],
};

@Module({})
export class AppModule {
  static forRoot(config: FeedServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HttpCoreModule.forRoot({
          appName: config.INSTANCE_NAME,
          logLevel: config.LOG_LEVEL,
          readiness,
        }),
        RedisModule.forRoot(config, config.INSTANCE_NAME),
        AuthModule.forRoot(config),
        RateLimitModule.forRoot(config),
        FeedModule.forRoot(config),
      ],
    };
  }
}

@Module({})
export class WorkerModule {
  static forRoot(config: FeedWorkerConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        HttpCoreModule.forRoot({
          appName: config.INSTANCE_NAME,
          logLevel: config.LOG_LEVEL,
          readiness,
        }),
        RedisModule.forRoot(config, config.INSTANCE_NAME),
        QueueModule.forRoot(config, config, [QUEUES.feed]),
        DatabaseModule.forRoot({ appName: config.INSTANCE_NAME, main: config, shards: config }),
        FanoutModule.forRoot(config),
        RebuildModule.forRoot(config),
      ],
    };
  }
}
