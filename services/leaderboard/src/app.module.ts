import { QUEUES } from '@murmur/contracts';
import { defineService } from '@murmur/http';
import { leaderboardApiConfig, leaderboardWorkerConfig } from './config';
import { LeaderboardsModule } from './leaderboards/leaderboards.module';
import { ScoringModule } from './scoring/scoring.module';

export const apiModule = defineService(leaderboardApiConfig, (config) => ({
  features: [LeaderboardsModule.forRoot({ topCacheMs: config.LEADERBOARD_TOP_CACHE_MS })],
}));

/** The worker: score events counted in Postgres and shown on the boards. */
export const workerModule = defineService(leaderboardWorkerConfig, () => ({
  queues: [QUEUES.leaderboard],
  features: [ScoringModule],
}));
