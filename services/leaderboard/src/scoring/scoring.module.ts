import { Module } from '@nestjs/common';
import { QUEUES } from '@murmur/contracts';
import { queueDepthWatcher } from '@murmur/queue';
import { LeaderboardStoreModule } from '../leaderboards/leaderboard-store.module';
import { ScoreProcessor } from './score.processor';
import { ScoringService } from './scoring.service';

@Module({
  imports: [LeaderboardStoreModule],
  providers: [ScoreProcessor, ScoringService, queueDepthWatcher(QUEUES.leaderboard)],
})
export class ScoringModule {}
