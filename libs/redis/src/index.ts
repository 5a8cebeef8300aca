/**
 * @murmur/redis — the Redis connections of a process: `REDIS` (sessions, rate limits, timelines,
 * leaderboards; durable, AOF) and `CACHE_REDIS` (the L2 cache; may evict, may be down).
 */
export * from './redis.module';
export * from './pipeline';
