/**
 * @murmur/rate-limit — rate limits in the services, in Redis: an exact sliding-window log per key
 * (one Lua script), policies per IP (sign-up) and per user (writes) from config, log-in throttling
 * per account (backoff) and per address, counting failures only (./login-throttle.ts), a global
 * per-caller limit (per user with a session, per client address without), RateLimit-* headers
 * and 429 problem+json with Retry-After.
 */
export * from './sliding-window';
export * from './rate-limit.guard';
export * from './rate-limit.module';
export * from './login-throttle';
export * from './login-limiter';
