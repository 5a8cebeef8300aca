/**
 * @murmur/stack — the local stack as code, for machines without containers: the topology (every
 * component, port and directory per profile), the environment contract of each service process,
 * and starting, supervising and stopping real Postgres clusters with streaming replicas, Redis, Memcached,
 * the services and NGINX. `npm start` (through its CLI) and the test suite's global setup and
 * teardown (through startStack/stopStack) both use it.
 */
export * from './topology';
export {
  failoverStack,
  migrateStack,
  runningStack,
  stackStatus,
  stackTopology,
  startStack,
  stopStack,
  type StackHandle,
  type StackOptions,
  type StackStatus,
  type StopResult,
} from './control';
export type { ComponentStatus } from './output';
export { formatFailover, type FailoverRequest, type FailoverSummary } from './failover';
export { pgIdentity, type PgIdentity } from './postgres';
export { memcachedArgs } from './memcached';
export { signalProcessTree } from './processes';
export { findNginx, localCertificate } from './components';
export {
  EDGE_RATE_ENV,
  EDGE_RATE_LIMIT_DEFAULTS,
  EDGE_MAX_CONNS_DEFAULT,
  EDGE_RATE_ZONES,
  edgeCacheDir,
  edgeMaxConnsFromEnv,
  edgeRateLimitsFromEnv,
  localEdgeConfig,
  NGINX_TEMP_DIRS,
  POOLS,
  renderEdgeConfig,
  renderNginxConfig,
  renderRateLimits,
  type EdgeConfig,
  type EdgePool,
  type EdgeRateLimit,
  type EdgeRateLimits,
  type EdgeRateValue,
} from './nginx-config';
export * from './edge-features';
export * from './edge-process';
export { readState, type ComponentState, type StackState } from './state';
export { lineProbe, memcachedVersion, redisPing } from './probes';
