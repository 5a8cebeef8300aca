import { metricsRegistry } from '@murmur/observability';
import { Counter } from 'prom-client';

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
