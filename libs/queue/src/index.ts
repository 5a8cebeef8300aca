/**
 * @murmur/queue — BullMQ for events that must not be lost (at-least-once, idempotent consumers).
 * Services enqueue through a typed port (`JobQueue<Q>`, `@InjectJobQueue`): a job's payload is
 * checked against its name at compile time. Jobs carry the trace context (bullmq-otel), so a
 * worker's span joins the request that caused it. Retries, backoff and concurrency come from
 * config. Also the transactional outbox and its relay, and the queue metrics.
 */
export * from './job-queue';
export * from './in-memory-job-queue';
export * from './queue.module';
export * from './queue-metrics';
export * from './outbox.repository';
export * from './outbox-relay';
