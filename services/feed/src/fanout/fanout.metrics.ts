import { metricsRegistry } from '@murmur/observability';
import { Counter } from 'prom-client';

/**
 * A fan-out's writes into follower timelines: written (the timeline is materialised) or skipped
 * (its reader has not read lately; the next read merges it). The skipped share is what idle
 * expiry saves.
 */
export const fanoutTimelineWritesTotal = new Counter({
  name: 'murmur_fanout_timeline_writes_total',
  help: 'Follower timelines a fan-out wrote a post into (written) or passed over because they are not materialised (skipped)',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});
