import { metricsRegistry } from '@murmur/observability';
import { Counter, Gauge } from 'prom-client';

export const likeWritesTotal = new Counter({
  name: 'murmur_like_writes_total',
  help: 'Likes and unlikes accepted, by mode (behind: acknowledged from Redis; through: committed to Postgres first)',
  labelNames: ['mode', 'op'] as const,
  registers: [metricsRegistry],
});

export const likeFlushesTotal = new Counter({
  name: 'murmur_like_flushed_total',
  help: 'Write-behind flushes: rounds, posts written and like changes carried (changes per post and posts per round show the coalescing)',
  labelNames: ['unit'] as const,
  registers: [metricsRegistry],
});

export const likesPendingPosts = new Gauge({
  name: 'murmur_likes_pending_posts',
  help: 'Posts with like changes in Redis not yet written to Postgres',
  registers: [metricsRegistry],
});
