import { metricsRegistry } from '@murmur/observability';
import { Counter, Gauge, Histogram } from 'prom-client';

/** The outbox relay: what it published, and what is still owed. */
export const outboxEventsTotal = new Counter({
  name: 'murmur_outbox_events_total',
  help: 'Outbox events by source database and outcome (published; failed or deferred: left for the next poll)',
  labelNames: ['source', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const outboxUnsent = new Gauge({
  name: 'murmur_outbox_unsent',
  help: 'Outbox events not yet published, per source database (polled)',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

export const outboxOldestUnsentSeconds = new Gauge({
  name: 'murmur_outbox_oldest_unsent_seconds',
  help: 'Age of the oldest unpublished outbox event, per source database (polled)',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

export const outboxPublishSeconds = new Histogram({
  name: 'murmur_outbox_publish_seconds',
  help: 'Time from an event commit to its publication by a poll (the events a write could not publish itself)',
  labelNames: ['source'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});
