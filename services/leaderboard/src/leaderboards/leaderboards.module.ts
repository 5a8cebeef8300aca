import { type DynamicModule, Module } from '@nestjs/common';
import { LeaderboardStoreModule } from './leaderboard-store.module';
import { LeaderboardsController } from './leaderboards.controller';
import { LEADERBOARD_TOP_CACHE_MS, LeaderboardsService } from './leaderboards.service';

@Module({})
export class LeaderboardsModule {
  static forRoot(options: { topCacheMs: number }): DynamicModule {
    return {
      module: LeaderboardsModule,
      imports: [LeaderboardStoreModule],
      controllers: [LeaderboardsController],
      providers: [
        { provide: LEADERBOARD_TOP_CACHE_MS, useValue: options.topCacheMs },
        LeaderboardsService,
      ],
    };
  }
}
