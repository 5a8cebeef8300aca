import { testTopology } from '@murmur/testing';
import { Redis } from 'ioredis';

/**
 * Only a process that caches connects to the cache Redis (its `cache` config part): in the
 * running test stack, the user and post API processes, and no worker, feed or leaderboard
 * process. Read from the cache Redis itself (CLIENT LIST names each connection `<process>:cache`).
 */
describe('who connects to the cache Redis', () => {
  it('the user and post API processes, and nothing else of the stack', async () => {
    const t = testTopology();
    const port = t.redis.find((r) => r.purpose === 'cache')?.port;
    const redis = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    try {
      await redis.connect();
      const list = (await redis.client('LIST')) as string;
      const names = new Set(
        list
          .split('\n')
          .map((line) => /\bname=(\S+)/.exec(line)?.[1] ?? '')
          .filter((name) => name.endsWith(':cache'))
          .map((name) => name.slice(0, -':cache'.length)),
      );
      const expected = t.services
        .filter((s) => s.entry === 'main' && (s.service === 'user' || s.service === 'post'))
        .map((s) => s.name)
        .sort();
      expect(expected.length).toBeGreaterThanOrEqual(2);
      expect([...names].sort()).toEqual(expected);
    } finally {
      redis.disconnect();
    }
  });
});
