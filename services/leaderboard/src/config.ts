import {
  baseConfigSchema,
  httpConfigSchema,
  loadConfig,
  mainDatabaseConfigSchema,
  queueConfigSchema,
  rateLimitConfigSchema,
  redisConfigSchema,
  sessionConfigSchema,
} from '@murmur/config';
import { z } from 'zod';

export const leaderboardConfigSchema = baseConfigSchema
  .extend(httpConfigSchema.shape)
  .extend(mainDatabaseConfigSchema.shape)
  .extend(redisConfigSchema.shape)
  .extend(sessionConfigSchema.shape)
  .extend(queueConfigSchema.shape)
  .extend(rateLimitConfigSchema.shape)
  .extend({
    /** TTL of the in-process top-N cache, refreshed ahead of expiry; 0 switches it off */
    LEADERBOARD_TOP_CACHE_MS: z.coerce.number().int().min(0).default(1000),
  });

export type LeaderboardConfig = z.infer<typeof leaderboardConfigSchema>;

export const loadLeaderboardConfig = (): LeaderboardConfig => loadConfig(leaderboardConfigSchema);
