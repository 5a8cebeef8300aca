import {
  baseConfigSchema,
  feedConfigSchema,
  httpConfigSchema,
  loadConfig,
  mainDatabaseConfigSchema,
  queueConfigSchema,
  rateLimitConfigSchema,
  rebuildConfigSchema,
  redisConfigSchema,
  sessionConfigSchema,
  shardDatabaseConfigSchema,
} from '@murmur/config';
import type { z } from 'zod';

export const feedServiceConfigSchema = baseConfigSchema
  .extend(httpConfigSchema.shape)
  .extend(redisConfigSchema.shape)
  .extend(sessionConfigSchema.shape)
  .extend(queueConfigSchema.shape)
  .extend(rateLimitConfigSchema.shape)
  .extend(feedConfigSchema.shape);

export type FeedServiceConfig = z.infer<typeof feedServiceConfigSchema>;

/**
 * The worker needs no post-service client; it reads Postgres (main and the post shards) to
 * rebuild the data Redis's derived state when that Redis has lost it.
 */
export const feedWorkerConfigSchema = feedServiceConfigSchema
  .extend({
    POST_GRPC_URL: feedConfigSchema.shape.POST_GRPC_URL.optional().default('unused'),
  })
  .extend(mainDatabaseConfigSchema.shape)
  .extend(shardDatabaseConfigSchema.shape)
  .extend(rebuildConfigSchema.shape);

export type FeedWorkerConfig = z.infer<typeof feedWorkerConfigSchema>;

export const loadFeedConfig = (): FeedServiceConfig => loadConfig(feedServiceConfigSchema);
export const loadFeedWorkerConfig = (): FeedWorkerConfig => loadConfig(feedWorkerConfigSchema);
