import { metricsRegistry } from '@murmur/observability';
import { Counter, Gauge } from 'prom-client';

/** Where reads went, replica lag and shard load: recorded by the cluster and the shard router. */
export const dbReadsTotal = new Counter({
  name: 'murmur_db_reads_total',
  help: 'Reads by cluster and the node that served them; reason says why the primary was used',
  labelNames: ['cluster', 'target', 'reason'] as const,
  registers: [metricsRegistry],
});

export const dbReplicaLagSeconds = new Gauge({
  name: 'murmur_db_replica_lag_seconds',
  help: 'Seconds since the last transaction replayed on a replica (as seen by this process)',
  labelNames: ['cluster', 'replica'] as const,
  registers: [metricsRegistry],
});

export const shardQueriesTotal = new Counter({
  name: 'murmur_shard_queries_total',
  help: 'Queries per physical shard (shard load)',
  labelNames: ['shard', 'kind'] as const,
  registers: [metricsRegistry],
});
