import {
  baseConfigSchema,
  feedConfigSchema,
  httpConfigSchema,
  loadConfig,
  queueConfigSchema,
  rateLimitConfigSchema,
  redisConfigSchema,
  sessionConfigSchema,
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

/** The worker needs no post-service client. */
export const feedWorkerConfigSchema = feedServiceConfigSchema.extend({
  POST_GRPC_URL: feedConfigSchema.shape.POST_GRPC_URL.optional().default('unused'),
});

export type FeedWorkerConfig = z.infer<typeof feedWorkerConfigSchema>;

export const loadFeedConfig = (): FeedServiceConfig => loadConfig(feedServiceConfigSchema);
export const loadFeedWorkerConfig = (): FeedWorkerConfig => loadConfig(feedWorkerConfigSchema);
