import { runEdge, type EdgeConfig, type StartedEdge } from '@murmur/stack';
import { REPO_ROOT } from './stack-fixture';

export type { AccessLogLine, StartedEdge } from '@murmur/stack';

/** A real NGINX of the test's own with this checkout's shared conf.d (see runEdge). */
export const startEdge = (
  config: Pick<EdgeConfig, 'pools'> & Partial<EdgeConfig>,
): Promise<StartedEdge> => runEdge(REPO_ROOT, config);
