import type { MemcachedNode } from './topology';

/**
 * memcached arguments for a node of the L2 cache tier: 127.0.0.1 only, TCP only (UDP off: it
 * answers spoofed requests, the classic amplification), a bounded memory that it evicts LRU from,
 * and when started by root, workers as `nobody` (memcached refuses to run as root otherwise).
 */
export function memcachedArgs(
  node: Pick<MemcachedNode, 'port' | 'memoryMb'>,
  asRoot = process.getuid?.() === 0,
): string[] {
  return [
    ...['--port', String(node.port), '--listen', '127.0.0.1', '--udp-port', '0'],
    ...['--memory-limit', String(node.memoryMb), '--conn-limit', '1024'],
    ...(asRoot ? ['--user', 'nobody'] : []),
  ];
}
