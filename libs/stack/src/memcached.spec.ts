import { memcachedArgs } from './memcached';
import { buildTopology } from './topology';

const option = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : args[i + 1];
};

describe(memcachedArgs.name, () => {
  const t = buildTopology({ profile: 'test', root: '/repo' });

  it('runs three nodes of the L2 tier, each on its own port of the profile', () => {
    expect(t.memcached).toHaveLength(3);
    expect(new Set(t.memcached.map((m) => m.port)).size).toBe(3);
    const dev = buildTopology({ profile: 'dev', root: '/repo' });
    expect(t.memcached.map((m) => m.port - 10_000)).toEqual(dev.memcached.map((m) => m.port));
  });

  it('listens on its port on 127.0.0.1 only, TCP only, with bounded memory', () => {
    for (const node of t.memcached) {
      const args = memcachedArgs(node, false);
      expect(option(args, 'port')).toBe(String(node.port));
      expect(option(args, 'listen')).toBe('127.0.0.1');
      expect(option(args, 'udp-port')).toBe('0');
      expect(option(args, 'memory-limit')).toBe(String(node.memoryMb));
      expect(option(args, 'user')).toBeUndefined();
    }
  });

  it('drops root for its workers (memcached will not run as root)', () => {
    expect(option(memcachedArgs(t.memcached[0], true), 'user')).toBe('nobody');
  });
});
