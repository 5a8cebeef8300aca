import {
  baseConfigSchema,
  cacheConfigSchema,
  httpConfigSchema,
  likesConfigSchema,
  loadConfig,
  queueConfigSchema,
  rateLimitConfigSchema,
  redisConfigSchema,
  sessionConfigSchema,
  shardDatabaseConfigSchema,
} from '@murmur/config';
import { z } from 'zod';

export const postConfigSchema = baseConfigSchema
  .extend(httpConfigSchema.shape)
  .extend(shardDatabaseConfigSchema.shape)
  .extend(redisConfigSchema.shape)
  .extend(sessionConfigSchema.shape)
  .extend(cacheConfigSchema.shape)
  .extend(queueConfigSchema.shape)
  .extend(rateLimitConfigSchema.shape)
  .extend(likesConfigSchema.shape)
  .extend({
    /** where the gRPC server for other services listens */
    GRPC_HOST: z.string().default('0.0.0.0'),
    GRPC_PORT: z.coerce.number().int().min(1).max(65535),
  });

export type PostConfig = z.infer<typeof postConfigSchema>;

export const loadPostConfig = (): PostConfig => loadConfig(postConfigSchema);

/** The worker (write-behind flushes) serves no gRPC. */
export const postWorkerConfigSchema = postConfigSchema.extend({
  GRPC_PORT: postConfigSchema.shape.GRPC_PORT.optional(),
});

export type PostWorkerConfig = z.infer<typeof postWorkerConfigSchema>;

export const loadPostWorkerConfig = (): PostWorkerConfig => loadConfig(postWorkerConfigSchema);
