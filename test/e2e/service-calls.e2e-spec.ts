import { edgeApi, processMetric, sumMetric, testTopology, waitFor } from '@murmur/testing';

const api = edgeApi();

const servedBy = (port: number): Promise<number> =>
  processMetric(port, 'murmur_rpc_server_requests_total', { outcome: 'ok' });
const hydrationCalls = (): Promise<number> =>
  sumMetric('feed', 'murmur_rpc_client_duration_seconds_count', { outcome: 'ok' });

describe('feed → post over gRPC', () => {
  it('spreads hydration calls over both post processes (client-side round robin)', async () => {
    const author = await api.newUser('grpca');
    const reader = await api.newUser('grpcr');
    await api.request('POST', `/api/users/${author.id}/follow`, { token: reader.token });

    const posts = testTopology().services.filter((s) => s.service === 'post' && s.entry === 'main');
    const before = await Promise.all(posts.map((p) => servedBy(p.port)));
    const calls = await hydrationCalls();
    // A new post before each read: the feed process's L1 does not hold it, so every read makes
    // one call (for that post alone) once the post is in the timeline.
    for (let i = 0; i < 40; i++) {
      await api.request('POST', '/api/posts', { token: author.token, body: { text: `h${i}` } });
      // (fan-out is asynchronous: read until the post is there)
      await waitFor(async () => {
        const feed = await api.request<{ items: Array<{ text: string }> }>('GET', '/api/feed', {
          token: reader.token,
        });
        expect(feed.status).toBe(200);
        return feed.body.items[0]?.text === `h${i}` ? true : undefined;
      });
    }
    const after = await Promise.all(posts.map((p) => servedBy(p.port)));
    const delta = after.map((n, i) => n - before[i]);
    expect(delta.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(40);
    for (const d of delta) {
      expect(d).toBeGreaterThanOrEqual(10);
    }
    expect((await hydrationCalls()) - calls).toBeGreaterThanOrEqual(40);
  });

  it('fills a page it hydrated moments ago from the feed process’s L1, without a call', async () => {
    const author = await api.newUser('grpcl1a');
    const reader = await api.newUser('grpcl1r');
    await api.request('POST', `/api/users/${author.id}/follow`, { token: reader.token });
    for (const text of ['one', 'two', 'three']) {
      await api.request('POST', '/api/posts', { token: author.token, body: { text } });
    }
    const read = () =>
      api.request<{ items: unknown[] }>('GET', '/api/feed', { token: reader.token });
    // Fan-out is asynchronous (outbox, then the feed worker): wait until the timeline holds all
    // three posts.
    await waitFor(async () => ((await read()).body.items.length === 3 ? true : undefined), {
      what: 'the three posts in the reader’s feed',
    });
    // Both feed processes (least_conn alternates them) hydrate the page once …
    for (let i = 0; i < 4; i++) {
      expect((await read()).body.items).toHaveLength(3);
    }
    const calls = await hydrationCalls();
    const hits = await sumMetric('feed', 'murmur_cache_requests_total', {
      cache: 'feed-posts',
      result: 'hit',
    });
    // … then, within FEED_POST_CACHE_TTL_MS (2 s: the reads go at once), reads again without
    // asking the post service.
    const pages = await Promise.all(Array.from({ length: 10 }, () => read()));
    expect(pages.map((p) => p.body.items.length)).toEqual(Array(10).fill(3));
    expect((await hydrationCalls()) - calls).toBe(0);
    expect(
      (await sumMetric('feed', 'murmur_cache_requests_total', {
        cache: 'feed-posts',
        result: 'hit',
      })) - hits,
    ).toBe(30);
  });
});
