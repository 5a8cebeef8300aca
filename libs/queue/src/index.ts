/**
 * @murmur/queue — BullMQ for events that must not be lost (at-least-once, idempotent consumers).
 * Jobs carry the trace context (bullmq-otel), so a worker's span joins the request that caused it.
 * Retries, backoff and concurrency come from config.
 */
export * from './queue.module';
export * from './queue-metrics';
export * from './outbox.repository';
export * from './outbox-relay';
