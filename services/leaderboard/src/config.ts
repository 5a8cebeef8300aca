import { type ConfigOf, entryPointConfig } from '@murmur/config';
import { z } from 'zod';

/**
 * The leaderboard API (`main.ts`): boards read from the data Redis (the view for past periods,
 * the ledger while rebuilt); sessions for `me`.
 */
export const leaderboardApiConfig = entryPointConfig(['mainDatabase', 'rateLimits', 'sessions'], {
  /** TTL of the in-process top-N cache, refreshed ahead of expiry; 0 switches it off */
  LEADERBOARD_TOP_CACHE_MS: z.coerce.number().int().min(0).default(1000),
});

export type LeaderboardApiConfig = ConfigOf<typeof leaderboardApiConfig>;

/** The leaderboard worker (`worker.ts`): score events counted in Postgres, shown on the boards. */
export const leaderboardWorkerConfig = entryPointConfig(['mainDatabase', 'queues'], {
  /**
   * How often the per-window materialized view is refreshed (ms); 0 switches the schedule off.
   * History reads and rebuilds see the ledger as of the last refresh.
   */
  LEADERBOARD_VIEW_REFRESH_MS: z.coerce.number().int().min(0).default(60_000),
  /** a refresh that takes longer is cancelled (statement_timeout), and the next tick tries again */
  LEADERBOARD_VIEW_REFRESH_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
});

export type LeaderboardWorkerConfig = ConfigOf<typeof leaderboardWorkerConfig>;
