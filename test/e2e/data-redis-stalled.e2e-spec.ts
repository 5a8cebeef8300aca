import { readFileSync } from 'node:fs';
import path from 'node:path';
import { edgeApi, freezeComponent, testTopology, waitFor } from '@murmur/testing';
import { Redis } from 'ioredis';

const api = edgeApi();

interface AccessLine {
  uri: string;
  status: number;
  upstream_addr: string;
}

/** NGINX's access log of the test stack (JSON lines, flushed every second). */
function accessLog(): AccessLine[] {
  const file = path.join(testTopology().nginx.dir, 'access.log');
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as AccessLine);
}

/** Time one request through the edge. */
async function timed(
  method: string,
  url: string,
  options: Parameters<typeof api.request>[2] = {},
): Promise<{ status: number; ms: number; contentType: string; retryAfter: string | null }> {
  const started = Date.now();
  const res = await api.request(method, url, options);
  return {
    status: res.status,
    ms: Date.now() - started,
    contentType: res.contentType,
    retryAfter: res.headers.get('retry-after'),
  };
}

describe('the data Redis stalls: bounded, clear failures, and no pool ejected', () => {
  let reader: { id: string; token: string };
  let postId: string;
  let thaw = (): void => undefined;

  beforeAll(async () => {
    const author = await api.newUser('stallauthor');
    reader = await api.newUser('stallreader');
    expect(
      (await api.request('POST', `/api/users/${author.id}/follow`, { token: reader.token })).status,
    ).toBe(204);
    const post = await api.request<{ id: string }>('POST', '/api/posts', {
      token: author.token,
      body: { text: 'readable while the data Redis is stalled' },
    });
    expect(post.status).toBe(201);
    postId = post.body.id;
    // Readable and cached before the stall (replicas may lag behind the inserts).
    await waitFor(
      async () => {
        const [u, p, f] = await Promise.all([
          api.request('GET', `/api/users/${author.id}`),
          api.request('GET', `/api/posts/${postId}`),
          api.request('GET', '/api/feed', { token: reader.token }),
        ]);
        return u.status === 200 && p.status === 200 && f.status === 200 ? true : undefined;
      },
      { timeoutMs: 10_000, what: 'profile, post and feed to be readable' },
    );
  });

  afterEach(() => thaw());

  it('answers what needs it with 503 + Retry-After within a second, and keeps serving public reads', async () => {
    const author = (await api.request<{ authorId: string }>('GET', `/api/posts/${postId}`)).body
      .authorId;
    thaw = freezeComponent('redis');
    const needRedis = [
      ['a feed page (session lookup)', 'GET', '/api/feed', { token: reader.token }],
      [
        'a new post (session, write limit, queue)',
        'POST',
        '/api/posts',
        {
          token: reader.token,
          body: { text: 'not now' },
        },
      ],
      [
        'a log-in (fails closed without its limiter)',
        'POST',
        '/api/sessions',
        {
          body: { username: 'nobody_here', password: 'whatever-long' },
        },
      ],
    ] as const;
    for (const [what, method, url, options] of needRedis) {
      for (let i = 0; i < 3; i++) {
        const r = await timed(method, url, options);
        expect([what, r.status, r.contentType.includes('problem+json')]).toEqual([what, 503, true]);
        expect([what, Number(r.retryAfter) >= 1]).toEqual([what, true]);
        expect([what, r.ms < 1_000]).toEqual([what, true]);
      }
    }
    // Public reads need only Postgres and the cache Redis: the per-caller limit fails open (and
    // after three failed checks stops asking the stalled Redis at all).
    const slowest = { profile: 0, post: 0 };
    for (let i = 0; i < 20; i++) {
      const profile = await timed('GET', `/api/users/${author}`);
      const post = await timed('GET', `/api/posts/${postId}`);
      expect([profile.status, post.status]).toEqual([200, 200]);
      slowest.profile = Math.max(slowest.profile, profile.ms);
      slowest.post = Math.max(slowest.post, post.ms);
    }
    expect(slowest.profile).toBeLessThan(1_000);
    expect(slowest.post).toBeLessThan(1_000);
  }, 60_000);

  it("does not let a service's own 503s eject it from NGINX's pool", async () => {
    thaw = freezeComponent('redis');
    // Far more 503s from both feed processes than max_fails (3) within fail_timeout (10 s).
    const refused = await Promise.all(
      Array.from({ length: 24 }, () => timed('GET', '/api/feed', { token: reader.token })),
    );
    expect(refused.map((r) => r.status)).toEqual(refused.map(() => 503));
    thaw();
    // Straight after: had NGINX counted those 503s as failures, both servers would be out for
    // 10 s and every one of these would be a 502 "no live upstreams".
    const marker = Date.now();
    const after = await Promise.all(
      Array.from({ length: 12 }, () =>
        timed('GET', `/api/feed?limit=5&_=${marker}`, { token: reader.token }),
      ),
    );
    // The session store may need a moment after SIGCONT; give it one retry, never a 502.
    expect(after.filter((r) => r.status === 502 || r.status === 504)).toEqual([]);
    await waitFor(
      async () =>
        (await api.request('GET', '/api/feed', { token: reader.token })).status === 200
          ? true
          : undefined,
      { timeoutMs: 2_000, what: 'the feed to answer 200 again' },
    );
    const flushed = (): Promise<AccessLine[] | undefined> => {
      const lines = accessLog().filter((l) => l.uri.startsWith(`/api/feed?limit=5&_=${marker}`));
      return Promise.resolve(lines.length >= after.length ? lines : undefined);
    };
    // Both feed processes answered 503s (least_conn spread them), and NGINX passed each on.
    const feedPorts = testTopology()
      .services.filter((s) => s.service === 'feed' && s.entry === 'main')
      .map((s) => `127.0.0.1:${s.port}`);
    const lines = await waitFor(flushed, {
      timeoutMs: 5_000,
      intervalMs: 200,
      what: 'NGINX to flush its access log',
    });
    expect(lines.filter((l) => l.status === 502 || l.status === 504)).toEqual([]);
    expect(new Set(lines.map((l) => l.upstream_addr))).toEqual(new Set(feedPorts));
  }, 60_000);

  it('refuses writes with 503 + Retry-After when the data Redis is full, and keeps serving public reads', async () => {
    const port = testTopology().redis.find((r) => r.purpose === 'queue')?.port;
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
    await redis.connect();
    const [, configured] = (await redis.config('GET', 'maxmemory')) as [string, string];
    // The stack bounds the data Redis (noeviction); shrink the bound to "full now".
    expect(Number(configured)).toBeGreaterThan(0);
    const author = (await api.request<{ authorId: string }>('GET', `/api/posts/${postId}`)).body
      .authorId;
    await redis.config('SET', 'maxmemory', '1');
    try {
      const write = await timed('POST', '/api/posts', {
        token: reader.token,
        body: { text: 'no room' },
      });
      expect([write.status, write.contentType.includes('problem+json')]).toEqual([503, true]);
      expect(Number(write.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(write.ms).toBeLessThan(1_000);
      const profile = await timed('GET', `/api/users/${author}`);
      const post = await timed('GET', `/api/posts/${postId}`);
      expect([profile.status, post.status]).toEqual([200, 200]);
    } finally {
      await redis.config('SET', 'maxmemory', configured);
      redis.disconnect();
    }
    // and writes work again once there is room
    await waitFor(
      async () =>
        (await api.request('POST', '/api/posts', { token: reader.token, body: { text: 'room' } }))
          .status === 201
          ? true
          : undefined,
      { timeoutMs: 5_000, intervalMs: 200, what: 'posting to work again' },
    );
  }, 30_000);
});
