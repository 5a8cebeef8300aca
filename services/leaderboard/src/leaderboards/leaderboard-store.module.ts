import { Module } from '@nestjs/common';
import { LeaderboardScoresRepository } from './leaderboard-scores.repository';
import { LeaderboardRepository } from './leaderboard.repository';

/** The boards' storage (Redis sorted sets, Postgres copy), shared by the API and the worker. */
@Module({
  providers: [LeaderboardRepository, LeaderboardScoresRepository],
  exports: [LeaderboardRepository, LeaderboardScoresRepository],
})
export class LeaderboardStoreModule {}
