import { type EdgeConfig, type EdgePool, POOLS, runEdge, type StartedEdge } from '@murmur/stack';
import { REPO_ROOT, testTopology } from './stack-fixture';

export type { AccessLogLine, StartedEdge } from '@murmur/stack';

/** A real NGINX of the test's own with this checkout's shared conf.d (see runEdge). */
export const startEdge = (
  config: Pick<EdgeConfig, 'pools'> & Partial<EdgeConfig>,
): Promise<StartedEdge> => runEdge(REPO_ROOT, config);

/**
 * The test stack's pools (every service's main processes), with some pools pointed at processes
 * of the test's own instead (`{ post: [port] }`), for an edge in front of both.
 */
export function stackPools(own: Partial<Record<EdgePool['name'], number[]>> = {}): EdgePool[] {
  const t = testTopology();
  return POOLS.map((name) => ({
    name,
    servers: (
      own[name] ??
      t.services.filter((s) => s.service === name && s.entry === 'main').map((s) => s.port)
    ).map((port) => `127.0.0.1:${port}`),
  }));
}
