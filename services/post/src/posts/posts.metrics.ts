import { metricsRegistry } from '@murmur/observability';
import { Counter } from 'prom-client';

export const rpcServerRequestsTotal = new Counter({
  name: 'murmur_rpc_server_requests_total',
  help: 'Service-to-service calls served, by method and outcome (shows how calls spread over replicas)',
  labelNames: ['method', 'outcome'] as const,
  registers: [metricsRegistry],
});
