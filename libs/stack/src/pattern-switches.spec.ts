import { patternSwitches } from './supervisor';

describe(patternSwitches.name, () => {
  it('passes pattern switches and limits, and nothing else of the caller’s environment', () => {
    expect(
      patternSwitches({
        CACHE_L1_ENABLED: 'false',
        READ_REPLICAS_ENABLED: 'false',
        RATE_LIMITS_ENABLED: 'false',
        TRACING_ENABLED: 'false',
        QUEUE_LOCK_DURATION_MS: '5000',
        SIMULATED_STORE_LATENCY_MS: '1',
        SIMULATED_OTHER: 'x',
        CACHE_L2_BACKEND: 'memcached',
        MEMCACHED_TIMEOUT_MS: '100',
        FEED_POST_CACHE_TTL_MS: '0',
        MEMCACHED_SERVERS: '10.0.0.1:11211',
        HOME: '/root',
        AWS_SECRET_ACCESS_KEY: 'x',
        DATABASE_URL: 'postgres://elsewhere',
      }),
    ).toEqual({
      CACHE_L1_ENABLED: 'false',
      READ_REPLICAS_ENABLED: 'false',
      RATE_LIMITS_ENABLED: 'false',
      TRACING_ENABLED: 'false',
      QUEUE_LOCK_DURATION_MS: '5000',
      SIMULATED_STORE_LATENCY_MS: '1',
      CACHE_L2_BACKEND: 'memcached',
      MEMCACHED_TIMEOUT_MS: '100',
      FEED_POST_CACHE_TTL_MS: '0',
    });
  });
});
