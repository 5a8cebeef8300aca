import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One Prometheus registry per process, and the metrics every process has (HTTP, Node's defaults).
 * A feature's own metrics are defined beside the feature and registered here: each is created
 * once, where its module loads (prom-client refuses duplicates).
 */
export const metricsRegistry = new Registry();
let defaultsCollected = false;

export function initDefaultMetrics(labels: Record<string, string>): void {
  if (defaultsCollected) {
    return;
  }
  defaultsCollected = true;
  metricsRegistry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: metricsRegistry });
}

export const httpRequestDuration = new Histogram({
  name: 'murmur_http_request_duration_seconds',
  help: 'HTTP request latency by route and status (golden signals: rate, errors, latency)',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

export const httpShedTotal = new Counter({
  name: 'murmur_http_shed_total',
  help: 'Requests refused with 503 before any work: queued too long, too many in flight, or past their deadline',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

export const httpInFlight = new Gauge({
  name: 'murmur_http_in_flight',
  help: 'Requests this process is working on now (probes and scrapes excluded)',
  registers: [metricsRegistry],
});

export const httpQueueSeconds = new Histogram({
  name: 'murmur_http_queue_seconds',
  help: 'Time from the edge receiving a request (X-Request-Start) to this process starting it',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [metricsRegistry],
});
