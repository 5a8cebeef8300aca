import { QUEUES } from '@murmur/contracts';
import { defineService } from '@murmur/http';
import { leaderboardApiConfig, leaderboardWorkerConfig } from './config';
import { LeaderboardsModule } from './leaderboards/leaderboards.module';
import { ScoringModule } from './scoring/scoring.module';

export const apiModule = defineService(leaderboardApiConfig, (config) => ({
  features: [LeaderboardsModule.forRoot({ topCacheMs: config.LEADERBOARD_TOP_CACHE_MS })],
}));

/**
 * The worker: score events counted in Postgres and shown on the boards of every window, and the
 * per-window materialized view refreshed on a schedule.
 */
export const workerModule = defineService(leaderboardWorkerConfig, (config) => ({
  queues: [QUEUES.leaderboard],
  features: [
    ScoringModule.forRoot({
      everyMs: config.LEADERBOARD_VIEW_REFRESH_MS,
      timeoutMs: config.LEADERBOARD_VIEW_REFRESH_TIMEOUT_MS,
    }),
  ],
}));
