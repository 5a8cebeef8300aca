import { ApiClient, edgeApi, sumMetric } from '@murmur/testing';

/**
 * OWASP API4:2023 (unrestricted resource consumption): `Cache-Control: no-cache` on a profile
 * read. The attack: anyone sends it on every read of a hot profile. Before the fix each such
 * read skipped the cache and its request coalescing, loaded the row and wrote it back to both
 * cache layers, with the invalidation broadcast to every process: the cost of a cache miss per
 * request, on demand. Now only the profile's owner (who may want to see their own edit at once)
 * is answered past the cache; everyone else's no-cache read is a normal cached read.
 */
const stack = edgeApi();
const refreshed = (): Promise<number> =>
  sumMetric('user', 'murmur_cache_loads_total', { cache: 'profile', outcome: 'refreshed' });

describe('Cache-Control: no-cache on profiles is honoured for the owner only (API4)', () => {
  it('serves an anonymous or other user’s no-cache read from the cache; the owner’s reads past it', async () => {
    const [owner, other] = [await stack.newUser('nc_owner'), await stack.newUser('nc_other')];
    const anonymous = new ApiClient(stack.baseUrl);
    const before = await refreshed();
    for (let i = 0; i < 20; i++) {
      const read = await (i % 2 === 0 ? anonymous : stack).request<{ id: string }>(
        'GET',
        `/api/users/${owner.id}`,
        {
          headers: { 'cache-control': 'no-cache' },
          ...(i % 2 === 0 ? {} : { token: other.token }),
        },
      );
      expect(read.status).toBe(200);
      expect(read.body.id).toBe(owner.id);
    }
    expect(await refreshed()).toBe(before);

    const own = await stack.request<{ id: string }>('GET', `/api/users/${owner.id}`, {
      token: owner.token,
      headers: { 'cache-control': 'no-cache' },
    });
    expect(own.status).toBe(200);
    expect(await refreshed()).toBe(before + 1);
  });
});
