import { metricsRegistry } from '@murmur/observability';
import { Counter, Gauge } from 'prom-client';

/** Reads answered another way because the data Redis's derived state is being rebuilt. */
export const derivedFallbackReadsTotal = new Counter({
  name: 'murmur_derived_fallback_reads_total',
  help: 'Reads served without the derived state while it is rebuilt: feed pages merged at read (fan-in) or refused (503), boards read from Postgres',
  labelNames: ['reader', 'via'] as const,
  registers: [metricsRegistry],
});

export const rebuildsTotal = new Counter({
  name: 'murmur_rebuilds_total',
  help: 'Rebuilds of the derived state started by this process, by outcome (empty: nothing to derive, only the marker set)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const rebuildPhaseSeconds = new Gauge({
  name: 'murmur_rebuild_phase_seconds',
  help: 'How long each phase of the last rebuild run by this process took',
  labelNames: ['phase'] as const,
  registers: [metricsRegistry],
});
