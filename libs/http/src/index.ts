/**
 * @murmur/http — how every Murmur process serves HTTP: Fastify under Nest, strict validation,
 * problem+json errors, JSON logs with trace ids, `/health/live`, `/health/ready` and `/metrics`,
 * a per-request consistency context, and graceful shutdown; and `ServiceModule`, the one
 * composition root of every process (its shared parts, readiness derived from them, its features).
 */
export * from './readiness';
export * from './http-core.module';
export * from './service.module';
export * from './create-http-app';
export * from './cache-control';
export * from './int8-id';
export * from './load-shedding';
export * from './idempotency-key';
export * from './http-caching';
