import type { RedisNode } from './topology';

/**
 * redis-server arguments for a node. The queue instance holds data that is not a cache (BullMQ
 * jobs, sessions, timelines, leaderboards): AOF and noeviction, so it refuses writes rather than
 * silently dropping a job. The cache instance is a pure L2 cache: no persistence, bounded, LRU.
 */
export function redisArgs(node: RedisNode): string[] {
  const common = [
    '--port',
    String(node.port),
    '--bind',
    '127.0.0.1',
    // Bound to 127.0.0.1 already; protected mode would only refuse our own passwordless clients.
    '--protected-mode',
    'no',
    '--dir',
    node.dataDir,
    '--daemonize',
    'no',
    '--save',
    '',
    '--loglevel',
    'warning',
  ];
  const purpose =
    node.purpose === 'queue'
      ? [
          ...['--appendonly', 'yes', '--appendfsync', 'everysec'],
          // Bounded like every deploy target: at the bound writes are refused (503s), not evicted.
          ...['--maxmemory', '1gb', '--maxmemory-policy', 'noeviction'],
        ]
      : ['--appendonly', 'no', '--maxmemory', '256mb', '--maxmemory-policy', 'allkeys-lru'];
  return [...common, ...purpose];
}
