import {
  ApiClient,
  edgeApi,
  startEdge,
  stackPools,
  startServiceProcess,
  type StartedEdge,
  type StartedServiceProcess,
  waitFor,
} from '@murmur/testing';

/**
 * The edge cache (EDGE_CACHE=on) in front of the real services: a second NGINX with the cache on,
 * its pools the test stack's processes, except the post pool, which is one post process of this
 * test's own, so that the test can stop it. What the services say decides what the edge keeps
 * (libs/http/src/http-caching.ts), so this is the pattern end to end: anonymous public reads are
 * kept for their max-age and collapsed, callers with a token always reach a service, a feed is
 * never kept, and the edge answers stale while the post service is down.
 */
const stack = edgeApi();

interface Post {
  id: string;
  likeCount: number;
}

describe('the edge cache in front of the services (EDGE_CACHE=on)', () => {
  let post: StartedServiceProcess | undefined;
  let edge: StartedEdge | undefined;
  let api: ApiClient;
  let author: Awaited<ReturnType<typeof stack.newUser>>;

  const cacheStatus = (r: { headers: Headers }): string | null => r.headers.get('x-cache-status');
  /** requests for `uri` that reached a service (the edge log has an upstream for them) */
  const upstreamHits = (uri: string): number =>
    (edge as StartedEdge).accessLog().filter((l) => l.uri === uri && l.upstream_addr !== '').length;
  const newPost = async (text: string): Promise<Post> => {
    const created = await stack.request<Post>('POST', '/api/posts', {
      token: author.token,
      body: { text },
    });
    expect(created.status).toBe(201);
    return created.body;
  };

  beforeAll(async () => {
    author = await stack.newUser('edgec');
    post = await startServiceProcess({ service: 'post', name: 'post-edge-cache' });
    edge = await startEdge({
      edgeCache: 'on',
      rateLimits: { api: false, auth: false },
      pools: stackPools({ post: [(post).port] }),
    });
    api = new ApiClient(`${edge.base}`);
  });

  afterAll(async () => {
    await edge?.stop();
    await post?.stop();
  });

  it('keeps an anonymous read of a post for its max-age: MISS, then HIT without reaching the service', async () => {
    const p = await newPost('kept at the edge');
    const uri = `/api/posts/${p.id}`;
    const first = await api.request<Post>('GET', uri);
    const second = await api.request<Post>('GET', uri);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([cacheStatus(first), cacheStatus(second)]).toEqual(['MISS', 'HIT']);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(upstreamHits(uri)).toBe(1);
  });

  it('sends a caller with a token to the service every time, with the fresh answer, while anonymous callers get the kept one until max-age', async () => {
    const p = await newPost('liked while kept');
    const uri = `/api/posts/${p.id}`;
    expect(cacheStatus(await api.request('GET', uri))).toBe('MISS');
    const liker = await stack.newUser('edgel');
    expect((await stack.request('PUT', `${uri}/like`, { token: liker.token })).status).toBe(200);

    const asLiker = await api.request<Post>('GET', uri, { token: liker.token });
    expect(cacheStatus(asLiker)).toBe('BYPASS');
    expect(asLiker.body.likeCount).toBe(1);
    const anonymous = await api.request<Post>('GET', uri);
    expect(cacheStatus(anonymous)).toBe('HIT');
    expect(anonymous.body.likeCount).toBe(0);

    // The TTL, not a purge, ends it: past max-age (5 s) the edge refreshes in the background
    // (answering stale once) and then has the new count.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const fresh = await waitFor(
      async () => {
        const r = await api.request<Post>('GET', uri);
        return r.body.likeCount === 1 ? r : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100, what: 'the edge to refresh the post' },
    );
    expect(['HIT', 'MISS', 'EXPIRED', 'REVALIDATED']).toContain(cacheStatus(fresh));
  }, 20_000);

  it('never keeps a feed page or an error', async () => {
    const feed = [
      await api.request('GET', '/api/feed', { token: author.token }),
      await api.request('GET', '/api/feed', { token: author.token }),
    ];
    expect(feed.map((r) => r.status)).toEqual([200, 200]);
    expect(feed.map(cacheStatus)).toEqual(['BYPASS', 'BYPASS']);
    const anonymous = [
      await api.request('GET', '/api/feed'),
      await api.request('GET', '/api/feed'),
    ];
    expect(anonymous.map((r) => r.status)).toEqual([401, 401]);
    expect(anonymous.map(cacheStatus)).toEqual(['MISS', 'MISS']);
    const missing = [
      await api.request('GET', '/api/posts/1'),
      await api.request('GET', '/api/posts/1'),
    ];
    expect(missing.map((r) => r.status)).toEqual([404, 404]);
    expect(missing.map(cacheStatus)).toEqual(['MISS', 'MISS']);
  });

  it('collapses 100 concurrent anonymous misses for one post into 1 request to the post service', async () => {
    const p = await newPost('a hundred at once');
    const uri = `/api/posts/${p.id}`;
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => api.request<Post>('GET', uri)),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(new Set(answers.map((a) => a.body.id))).toEqual(new Set([p.id]));
    expect(upstreamHits(uri)).toBe(1);
  });

  it('answers a kept post, stale, while the post service is down; what it never kept is a 502', async () => {
    const p = await newPost('kept through an outage');
    const uri = `/api/posts/${p.id}`;
    const kept = await api.request<Post>('GET', uri);
    expect(cacheStatus(kept)).toBe('MISS');
    await (post as StartedServiceProcess).stop();
    post = undefined;
    const during = await api.request<Post>('GET', uri);
    expect(during.status).toBe(200);
    expect(during.body).toEqual(kept.body);
    // past max-age as well: stale-while-revalidate (30 s) and use_stale error keep it served
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const stale = await api.request<Post>('GET', uri);
    expect(stale.status).toBe(200);
    expect(cacheStatus(stale)).toBe('STALE');
    expect(stale.body).toEqual(kept.body);
    const never = await api.request('GET', '/api/posts/2');
    expect(never.status).toBe(502);
    expect(never.contentType).toBe('application/problem+json');
  }, 20_000);
});
