/**
 * @murmur/stack — the local stack as code: the topology (every component, port and directory per
 * profile), the environment contract of each service process, and starting, supervising and
 * stopping real Postgres clusters with streaming replicas, Redis, the services and NGINX.
 * `npm start` and the test suite's global setup both use it.
 */
export * from './topology';
export * from './control';
export { renderNginxConfig } from './nginx-config';
export type { StackState, ComponentState } from './state';
