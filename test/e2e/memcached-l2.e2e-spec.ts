import { DEFAULT_MEMCACHED_CLUSTER, MemcachedCluster } from '@murmur/cache';
import { startServiceProcess, testTopology, type StartedServiceProcess } from '@murmur/testing';
import { Redis } from 'ioredis';

/**
 * `CACHE_L2_BACKEND=memcached` in a real service process: the user service's profile cache keeps
 * its entries on the test stack's Memcached nodes (not in the cache Redis), and a write-through
 * replaces the entry there. L1 is off, so every read after the first is an L2 hit or a load.
 */
describe('a service with the Memcached L2', () => {
  const t = testTopology();
  const cluster = new MemcachedCluster({
    ...DEFAULT_MEMCACHED_CLUSTER,
    servers: t.memcached.map((m) => `127.0.0.1:${m.port}`),
  });
  const redis = new Redis(t.redis.find((r) => r.purpose === 'cache')?.port ?? 0, '127.0.0.1');
  let user: StartedServiceProcess;

  const inMemcached = async (key: string): Promise<string | undefined> => {
    const node = cluster.nodeFor(key) ?? '';
    return (await cluster.run(node, (c) => c.values(`get ${key}`))).get(key)?.value;
  };

  beforeAll(async () => {
    user = await startServiceProcess({
      service: 'user',
      name: 'user-memcached-l2',
      env: { CACHE_L2_BACKEND: 'memcached', CACHE_L1_ENABLED: 'false' },
    });
  });

  afterAll(async () => {
    await user?.stop();
    cluster.close();
    await redis.quit();
  });

  it('reports its Memcached nodes in readiness (not critical)', async () => {
    const ready = await fetch(`http://127.0.0.1:${user.port}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { details: Record<string, { status: string }> };
    expect(body.details.memcached).toMatchObject({ status: 'up' });
  });

  it('caches profiles on the Memcached nodes and writes edits through to them', async () => {
    const { id, token } = await user.api.newUser('mc');
    const read = await user.api.request<{ displayName: string }>('GET', `/api/users/${id}`);
    expect(read.status).toBe(200);
    const key = `cache:profile:${id}`;
    expect(await inMemcached(key)).toContain(id);
    await expect(redis.exists(key)).resolves.toBe(0);

    const edited = await user.api.request('PATCH', '/api/users/me', {
      token,
      body: { displayName: 'Memcached Reader' },
    });
    expect(edited.status).toBe(200);
    expect(await inMemcached(key)).toContain('Memcached Reader');
    const again = await user.api.request<{ displayName: string }>('GET', `/api/users/${id}`);
    expect(again.body.displayName).toBe('Memcached Reader');
  });
});
