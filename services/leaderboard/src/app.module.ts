import { type DynamicModule, Module } from '@nestjs/common';
import { QUEUES } from '@murmur/contracts';
import { DatabaseModule, MAIN_CLUSTER, type ReplicatedCluster } from '@murmur/database';
import { databaseReadiness, HttpCoreModule, type ReadinessCheck } from '@murmur/http';
import { QueueModule } from '@murmur/queue';
import { RateLimitModule } from '@murmur/rate-limit';
import { pingRedis, REDIS, RedisModule } from '@murmur/redis';
import type { Redis } from 'ioredis';
import type { LeaderboardConfig } from './config';
import { LeaderboardsModule } from './leaderboards/leaderboards.module';
import { ScoringModule } from './scoring/scoring.module';

const readiness = {
  inject: [MAIN_CLUSTER, REDIS],
  useFactory: (main: ReplicatedCluster, redis: Redis): ReadinessCheck[] => [
    ...databaseReadiness(main),
    { name: 'redis', critical: true, check: () => pingRedis(redis) },
  ],
};

const common = (config: LeaderboardConfig) => [
  HttpCoreModule.forRoot({ appName: config.INSTANCE_NAME, logLevel: config.LOG_LEVEL, readiness }),
  DatabaseModule.forRoot({ appName: config.INSTANCE_NAME, main: config }),
  RedisModule.forRoot(config, config.INSTANCE_NAME),
];

@Module({})
export class AppModule {
  static forRoot(config: LeaderboardConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...common(config),
        RateLimitModule.forRoot(config),
        LeaderboardsModule.forRoot({ topCacheMs: config.LEADERBOARD_TOP_CACHE_MS }),
      ],
    };
  }
}

@Module({})
export class WorkerModule {
  static forRoot(config: LeaderboardConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ...common(config),
        QueueModule.forRoot(config, config, [QUEUES.leaderboard]),
        ScoringModule,
      ],
    };
  }
}
