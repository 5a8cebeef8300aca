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
import type { z } from 'zod';

export const leaderboardConfigSchema = baseConfigSchema
  .extend(httpConfigSchema.shape)
  .extend(mainDatabaseConfigSchema.shape)
  .extend(redisConfigSchema.shape)
  .extend(sessionConfigSchema.shape)
  .extend(queueConfigSchema.shape)
  .extend(rateLimitConfigSchema.shape);

export type LeaderboardConfig = z.infer<typeof leaderboardConfigSchema>;

export const loadLeaderboardConfig = (): LeaderboardConfig => loadConfig(leaderboardConfigSchema);
