import { type DynamicModule, Module } from '@nestjs/common';
import { DerivedState } from '@murmur/rebuild';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import { LEADERBOARD_CLOCK, systemLeaderboardClock } from './leaderboard-clock';
import { LeaderboardStoreModule } from './leaderboard-store.module';
import { LeaderboardsController } from './leaderboards.controller';
import {
  DERIVED_STATE,
  LEADERBOARD_TOP_CACHE_MS,
  LeaderboardsService,
} from './leaderboards.service';

@Module({})
export class LeaderboardsModule {
  static forRoot(options: { topCacheMs: number }): DynamicModule {
    return {
      module: LeaderboardsModule,
      imports: [LeaderboardStoreModule],
      controllers: [LeaderboardsController],
      providers: [
        { provide: LEADERBOARD_TOP_CACHE_MS, useValue: options.topCacheMs },
        { provide: LEADERBOARD_CLOCK, useValue: systemLeaderboardClock },
        {
          provide: DERIVED_STATE,
          inject: [REDIS],
          useFactory: (redis: Redis) => new DerivedState(redis),
        },
        LeaderboardsService,
      ],
    };
  }
}
