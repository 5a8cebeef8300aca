import { edgeApi, processMetric, testTopology } from '@murmur/testing';

const api = edgeApi();
const WRITES_PER_USER = 200; // the test profile's RATE_LIMIT_WRITES_PER_USER

const writesDecisions = (port: number): Promise<number> =>
  processMetric(port, 'murmur_rate_limit_decisions_total', { policy: 'writes' });

describe('rate limits in the services, shared through Redis', () => {
  // Follows, not posts: they are writes under the same per-user policy but do not touch the
  // posters board that the walking-skeleton test checks.
  it('admits exactly the limit of 1,000 writes by one user, 100 at a time, over both user processes', async () => {
    const user = await api.newUser('flood');
    const target = await api.newUser('target');
    const procs = testTopology().services.filter((s) => s.service === 'user' && s.entry === 'main');
    const before = await Promise.all(procs.map((p) => writesDecisions(p.port)));

    // 100 at a time: concurrent enough that both processes race on the one window, and within
    // what a process admits at once (a single burst of 1,000 is shed in part with 503s, which is
    // the load-shedding test's subject, not this one's).
    const results: Awaited<ReturnType<typeof api.request>>[] = [];
    for (let wave = 0; wave < 10; wave++) {
      results.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            api.request(i % 2 === 0 ? 'POST' : 'DELETE', `/api/users/${target.id}/follow`, {
              token: user.token,
            }),
          ),
        )),
      );
    }
    const created = results.filter((r) => r.status === 204);
    const refused = results.filter((r) => r.status === 429);
    // A process still cold (JIT, pools) may shed part of a wave before it reaches the limiter:
    // fast 503s with Retry-After, never counted by the limiter. Everything else is decided by it.
    const shed = results.filter((r) => r.status === 503);
    for (const r of shed) {
      expect(r.body).toMatchObject({ code: 'overloaded' });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(shed.length).toBeLessThan(100);
    expect(created).toHaveLength(WRITES_PER_USER);
    expect(refused).toHaveLength(1000 - WRITES_PER_USER - shed.length);

    // Both processes decided (NGINX spread the flood), and they shared one window.
    const after = await Promise.all(procs.map((p) => writesDecisions(p.port)));
    after.forEach((n, i) => expect(n).toBeGreaterThan(before[i]));

    const no = refused[0];
    expect(no.contentType).toContain('application/problem+json');
    expect(no.body).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(no.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(no.headers.get('ratelimit-limit')).toBe(String(WRITES_PER_USER));
    expect(no.headers.get('ratelimit-remaining')).toBe('0');
    // Every accepted write says how many are left, counting down from the limit.
    const remaining = created.map((r) => r.headers.get('ratelimit-remaining'));
    expect(remaining.every((v) => v !== null && /^\d+$/.test(v))).toBe(true);
    expect(Math.max(...remaining.map(Number))).toBeLessThan(WRITES_PER_USER);
    expect(Math.min(...remaining.map(Number))).toBe(0);
  });

  it('counts per user: another user still writes', async () => {
    const other = await api.newUser('calm');
    const res = await api.request('POST', '/api/posts', {
      token: other.token,
      body: { text: 'still fine' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('ratelimit-limit')).toBe(String(WRITES_PER_USER));
  });
});
