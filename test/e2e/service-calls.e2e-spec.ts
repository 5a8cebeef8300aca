import { edgeApi, processMetric, sumMetric, testTopology } from '@murmur/testing';

const api = edgeApi();

const servedBy = (port: number): Promise<number> =>
  processMetric(port, 'murmur_rpc_server_requests_total', { outcome: 'ok' });

describe('feed → post over gRPC', () => {
  it('spreads hydration calls over both post processes (client-side round robin)', async () => {
    const author = await api.newUser('grpca');
    const reader = await api.newUser('grpcr');
    await api.request('POST', `/api/users/${author.id}/follow`, { token: reader.token });
    await api.request('POST', '/api/posts', { token: author.token, body: { text: 'hydrate me' } });

    const posts = testTopology().services.filter((s) => s.service === 'post' && s.entry === 'main');
    const before = await Promise.all(posts.map((p) => servedBy(p.port)));
    for (let i = 0; i < 40; i++) {
      const feed = await api.request<{ items: unknown[] }>('GET', '/api/feed', {
        token: reader.token,
      });
      expect(feed.status).toBe(200);
    }
    const after = await Promise.all(posts.map((p) => servedBy(p.port)));
    const delta = after.map((n, i) => n - before[i]);
    // Each of the 40 reads made one call; each post process took a fair share of them.
    expect(delta.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(40);
    for (const d of delta) {
      expect(d).toBeGreaterThanOrEqual(10);
    }
    expect(
      await sumMetric('feed', 'murmur_rpc_client_duration_seconds_count', { outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(40);
  });
});
