import {
  cacheConfigSchema,
  type ConfigOf,
  entryPointConfig,
  feedConfigSchema,
  rebuildConfigSchema,
} from '@murmur/config';

/**
 * The feed API (`main.ts`): timelines read from the data Redis, posts hydrated over gRPC through
 * an L1 of hydrated posts (off with the other L1s: `CACHE_L1_ENABLED=false`).
 */
export const feedApiConfig = entryPointConfig(['sessions', 'rateLimits'], {
  ...feedConfigSchema.omit({ FANOUT_CHUNK_SIZE: true }).shape,
  ...cacheConfigSchema.pick({ CACHE_L1_ENABLED: true }).shape,
});

export type FeedApiConfig = ConfigOf<typeof feedApiConfig>;

/**
 * The feed worker (`worker.ts`): fan-out and follow-graph processors, and the rebuild of the data
 * Redis's derived state from Postgres (main and the post shards). No post-service client.
 */
export const feedWorkerConfig = entryPointConfig(['mainDatabase', 'shards', 'queues'], {
  ...feedConfigSchema.pick({ TIMELINE_MAX: true, FANOUT_ON_WRITE: true, FANOUT_CHUNK_SIZE: true })
    .shape,
  ...rebuildConfigSchema.shape,
});

export type FeedWorkerConfig = ConfigOf<typeof feedWorkerConfig>;
