import { redisArgs } from './redis';
import { buildTopology, type RedisNode } from './topology';

const option = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : args[i + 1];
};

describe(redisArgs.name, () => {
  const t = buildTopology({ profile: 'test', root: '/repo' });
  const node = (purpose: RedisNode['purpose']): RedisNode =>
    t.redis.find((r) => r.purpose === purpose) as RedisNode;

  it('keeps queue data: AOF every second and no eviction', () => {
    const args = redisArgs(node('queue'));
    expect(option(args, 'appendonly')).toBe('yes');
    expect(option(args, 'appendfsync')).toBe('everysec');
    expect(option(args, 'maxmemory-policy')).toBe('noeviction');
    // bounded: at the bound writes are refused (503s), never evicted
    expect(option(args, 'maxmemory')).toBe('1gb');
  });

  it('runs the L2 cache without persistence, bounded and LRU', () => {
    const args = redisArgs(node('cache'));
    expect(option(args, 'appendonly')).toBe('no');
    expect(option(args, 'save')).toBe('');
    expect(option(args, 'maxmemory')).toBe('256mb');
    expect(option(args, 'maxmemory-policy')).toBe('allkeys-lru');
  });

  it('listens on its own port on 127.0.0.1 only, with its data in its directory', () => {
    for (const r of t.redis) {
      const args = redisArgs(r);
      expect(option(args, 'port')).toBe(String(r.port));
      expect(option(args, 'bind')).toBe('127.0.0.1');
      expect(option(args, 'dir')).toBe(r.dataDir);
    }
  });
});
