import { type ConfigOf, entryPointConfig, likesConfigSchema } from '@murmur/config';
import { z } from 'zod';

/**
 * The post API (`main.ts`): HTTP and the gRPC PostService in one process, posts on the shards
 * behind the cache, likes, and the relay of the shards' outboxes (post.created → fan-out, score).
 */
export const postApiConfig = entryPointConfig(
  ['shards', 'cache', 'sessions', 'rateLimits', 'queues', 'outbox'],
  {
    ...likesConfigSchema.shape,
    /** where the gRPC server for other services listens */
    GRPC_HOST: z.string().default('0.0.0.0'),
    GRPC_PORT: z.coerce.number().int().min(1).max(65535),
  },
);

export type PostApiConfig = ConfigOf<typeof postApiConfig>;

/** The post worker (`worker.ts`): write-behind flushes of likes; no gRPC, cache or sessions. */
export const postWorkerConfig = entryPointConfig(['shards', 'queues'], likesConfigSchema.shape);

export type PostWorkerConfig = ConfigOf<typeof postWorkerConfig>;
