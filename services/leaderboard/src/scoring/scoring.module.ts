import { type DynamicModule, Module } from '@nestjs/common';
import { QUEUES } from '@murmur/contracts';
import { queueDepthWatcher } from '@murmur/queue';
import { LEADERBOARD_CLOCK, systemLeaderboardClock } from '../leaderboards/leaderboard-clock';
import { LeaderboardStoreModule } from '../leaderboards/leaderboard-store.module';
import { ScoreProcessor } from './score.processor';
import { ScoringService, VIEW_REFRESH, type ViewRefreshOptions } from './scoring.service';

@Module({})
export class ScoringModule {
  static forRoot(refresh: ViewRefreshOptions): DynamicModule {
    return {
      module: ScoringModule,
      imports: [LeaderboardStoreModule],
      providers: [
        { provide: VIEW_REFRESH, useValue: refresh },
        { provide: LEADERBOARD_CLOCK, useValue: systemLeaderboardClock },
        ScoreProcessor,
        ScoringService,
        queueDepthWatcher(QUEUES.leaderboard),
      ],
    };
  }
}
