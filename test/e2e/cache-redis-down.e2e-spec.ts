import { edgeApi, freezeComponent, sumMetric, testTopology, waitFor } from '@murmur/testing';

const api = edgeApi();

describe('the cache Redis is down: slower, never down', () => {
  // Frozen, not killed: a hung Redis (connections open, no answers) is the worse case for a
  // client because every call waits for its timeout until the breaker opens.
  let resume = (): void => undefined;
  let probe: { userId: string; token: string; postId: string } | undefined;
  // Leave the stack as it was for the suites that follow: Redis answering and every process's
  // L2 breaker closed again (a half-open breaker closes on its next successful call, so drive
  // reads until the gauge says so).
  afterAll(async () => {
    resume();
    const p = probe;
    if (!p) {
      return;
    }
    await waitFor(
      async () => {
        await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            i % 2 === 0
              ? // the owner's no-cache (anyone else's is a cached read): a source read and a
                // write-through to L2 on every call
                api.request('GET', `/api/users/${p.userId}`, {
                  token: p.token,
                  headers: { 'cache-control': 'no-cache' },
                })
              : api.request('GET', `/api/posts/${p.postId}`),
          ),
        );
        const open =
          (await sumMetric('user', 'murmur_cache_l2_breaker_open', {})) +
          (await sumMetric('post', 'murmur_cache_l2_breaker_open', {}));
        return open === 0 ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'every L2 breaker to close again' },
    );
  }, 30_000);

  it('answers profile and post reads with 200 while the cache Redis is stopped, skipping it via the breaker', async () => {
    const me = await api.newUser('cachedown');
    const created = await api.request<{ id: string }>('POST', '/api/posts', {
      token: me.token,
      body: { text: 'still readable' },
    });
    expect(created.status).toBe(201);
    probe = { userId: me.id, token: me.token, postId: created.body.id };
    // Readable first (replicas may lag behind the inserts), so a 404 below can only be the cache.
    await waitFor(
      async () => {
        const [u, p] = await Promise.all([
          api.request('GET', `/api/users/${me.id}`, { token: me.token }),
          api.request('GET', `/api/posts/${created.body.id}`, { token: me.token }),
        ]);
        if (u.status === 200 && p.status === 200) {
          return true;
        }
        throw new Error(`profile ${u.status}, post ${p.status}`);
      },
      { timeoutMs: 10_000, what: 'the new user and post to be readable' },
    );
    const bypassedBefore =
      (await sumMetric('user', 'murmur_cache_requests_total', { layer: 'l2', result: 'bypass' })) +
      (await sumMetric('post', 'murmur_cache_requests_total', { layer: 'l2', result: 'bypass' }));

    resume = freezeComponent('redis-cache');
    try {
      const started = Date.now();
      for (let i = 0; i < 40; i++) {
        // no-cache forces a source read and a write-through attempt on every call, so each
        // read touches L2 (and would wait for its timeout without the breaker).
        const profile = await api.request('GET', `/api/users/${me.id}`, {
          token: me.token,
          headers: { 'cache-control': 'no-cache' },
        });
        expect(profile.status).toBe(200);
        const post = await api.request('GET', `/api/posts/${created.body.id}`, {
          token: me.token,
        });
        expect(post.status).toBe(200);
      }
      const elapsed = Date.now() - started;
      const bypassedAfter =
        (await sumMetric('user', 'murmur_cache_requests_total', {
          layer: 'l2',
          result: 'bypass',
        })) +
        (await sumMetric('post', 'murmur_cache_requests_total', { layer: 'l2', result: 'bypass' }));
      expect(bypassedAfter).toBeGreaterThan(bypassedBefore);
      // 80 reads; without the breaker each would pay at least one 250 ms command timeout.
      expect(elapsed).toBeLessThan(80 * 250);

      // Every user and post process stays live and ready, and says which part is degraded.
      const procs = testTopology().services.filter(
        (s) => (s.service === 'user' || s.service === 'post') && s.entry === 'main',
      );
      for (const p of procs) {
        const live = await fetch(`http://127.0.0.1:${p.port}/health/live`);
        expect([p.name, live.status]).toEqual([p.name, 200]);
        const ready = await fetch(`http://127.0.0.1:${p.port}/health/ready`);
        const body = (await ready.json()) as {
          details: Record<string, { status: string; degraded?: boolean }>;
        };
        expect([p.name, ready.status]).toEqual([p.name, 200]);
        expect([p.name, body.details.cache]).toEqual([
          p.name,
          { status: 'up', critical: false, degraded: true },
        ]);
      }
    } finally {
      resume();
    }
  });
});
