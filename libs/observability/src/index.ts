/**
 * @murmur/observability — tracing and metrics.
 * `startTelemetry` must run before Nest, pg, ioredis or BullMQ are loaded (their instrumentation
 * patches `require`), so a service's main.ts calls it first and only then imports its app.
 * This index therefore loads nothing that is instrumented.
 */
export * from './telemetry';
export * from './server-spans';
export * from './metrics';
export * from './metrics-text';
export * from './simulated-latency';
