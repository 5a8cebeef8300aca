import { metricsRegistry } from '@murmur/observability';
import { Counter, Histogram } from 'prom-client';

/**
 * Timelines merged on read (a reader without one: new, idle past TIMELINE_IDLE_TTL_SECONDS, or
 * after a loss of the data Redis), by outcome: merged, raced (another read merged it first), or
 * refused (the derived state is being rebuilt).
 */
export const timelineMaterialisationsTotal = new Counter({
  name: 'murmur_timeline_materialisations_total',
  help: 'Home timelines merged on read from the authored lists, by outcome (merged, raced, refused while a rebuild runs)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const feedTimelineReadSeconds = new Histogram({
  name: 'murmur_feed_timeline_read_seconds',
  help: 'Time to read a home-timeline page of post ids from Redis, by feed mode (fan-out: one sorted set; fan-in: merged from every followee at read time); hydration not included',
  labelNames: ['mode'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [metricsRegistry],
});

export const feedPartialPagesTotal = new Counter({
  name: 'murmur_feed_partial_pages_total',
  help: 'Feed pages served from the last known posts because the post service could not be asked in time',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

export const rpcClientDuration = new Histogram({
  name: 'murmur_rpc_client_duration_seconds',
  help: 'Service-to-service call latency by method and outcome',
  labelNames: ['method', 'outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [metricsRegistry],
});
