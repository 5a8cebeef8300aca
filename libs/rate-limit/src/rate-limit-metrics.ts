import { metricsRegistry } from '@murmur/observability';
import { Counter } from 'prom-client';

export const rateLimitDecisionsTotal = new Counter({
  name: 'murmur_rate_limit_decisions_total',
  help: 'Rate-limit decisions by policy: allowed, refused, or failed open/closed when Redis could not answer',
  labelNames: ['policy', 'outcome'] as const,
  registers: [metricsRegistry],
});
