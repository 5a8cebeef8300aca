import type { ReplicatedCluster } from '@murmur/database';

/**
 * A dependency the readiness probe checks. A `critical` one failing makes the process unready
 * (503); a non-critical one (the L2 cache, a Postgres primary whose replicas still answer) only
 * marks it degraded: it still serves, just slower or without writes.
 */
export interface ReadinessCheck {
  name: string;
  critical: boolean;
  check(): Promise<boolean>;
  /** shown beside the check's status in /health/ready (e.g. which node is primary) */
  details?: () => Record<string, unknown>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/**
 * Readiness of one Postgres cluster, from what its background probes last saw (no query per
 * probe). Critical: at least one node answers — a process that reaches no node of a cluster it
 * needs (a partition, a wrong address) serves nothing from it, and others may. Not critical: the
 * primary. Without it writes are refused at once with 503 + Retry-After while reads go on from
 * the replicas; taking every pod out of its Service for it would turn those reads and the clear
 * 503s into connection errors.
 */
export function databaseReadiness(
  cluster: Pick<ReplicatedCluster, 'name' | 'health'>,
): ReadinessCheck[] {
  const prefix = `postgres-${cluster.name}`;
  return [
    {
      name: prefix,
      critical: true,
      check: () => Promise.resolve(cluster.health().reachable > 0),
      details: () => ({
        nodes: cluster.health().nodes.map((n) => `${n.name} ${n.role} ${n.up ? 'up' : 'down'}`),
      }),
    },
    {
      name: `${prefix}-primary`,
      critical: false,
      check: () => Promise.resolve(cluster.health().primary !== undefined),
      details: () => ({ node: cluster.health().primary ?? null }),
    },
  ];
}
