import { type ConfigOf, entryPointConfig } from '@murmur/config';
import { z } from 'zod';

/** The leaderboard API (`main.ts`): boards read from the data Redis, Postgres while rebuilt. */
export const leaderboardApiConfig = entryPointConfig(['mainDatabase', 'rateLimits'], {
  /** TTL of the in-process top-N cache, refreshed ahead of expiry; 0 switches it off */
  LEADERBOARD_TOP_CACHE_MS: z.coerce.number().int().min(0).default(1000),
});

export type LeaderboardApiConfig = ConfigOf<typeof leaderboardApiConfig>;

/** The leaderboard worker (`worker.ts`): score events counted in Postgres, shown on the boards. */
export const leaderboardWorkerConfig = entryPointConfig(['mainDatabase', 'queues']);

export type LeaderboardWorkerConfig = ConfigOf<typeof leaderboardWorkerConfig>;
