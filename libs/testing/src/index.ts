/**
 * @murmur/testing — what tests share: the test stack's addresses (the project's own stack code,
 * `test` profile, private ports), an HTTP client for the API through NGINX, direct database
 * access for assertions, polling helpers, an in-process OTLP receiver, Memcached nodes on free
 * ports, and one more service process next to the stack's with its own settings.
 */
export * from './api-client';
export * from './otlp-receiver';
export * from './stack-fixture';
export * from './wait-for';
export * from './free-port';
export * from './memcached-nodes';
export * from './service-process';
export * from './edge';
