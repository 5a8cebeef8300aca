import { logicalShardForUser } from '@murmur/database';
import { edgeApi, sumMetric, testTopology, waitFor, withPostgres } from '@murmur/testing';

const api = edgeApi();
const topology = testTopology();
const replicasOf = (cluster: string): string[] =>
  topology.postgres.filter((n) => n.cluster === cluster && n.role === 'replica').map((n) => n.name);
const replicas = replicasOf('main');
const shardReplicas = Array.from({ length: topology.physicalShards }, (_, i) =>
  replicasOf(`shard-${i}`),
).flat();

const setReplay = (paused: boolean, names: string[] = replicas): Promise<unknown> =>
  Promise.all(
    names.map((name) =>
      withPostgres(name, 'postgres', (c) =>
        c.query(paused ? 'SELECT pg_wal_replay_pause()' : 'SELECT pg_wal_replay_resume()'),
      ),
    ),
  );

const readsServedBy = (target: 'primary' | 'replica', reason: string): Promise<number> =>
  sumMetric('user', 'murmur_db_reads_total', { cluster: 'main', target, reason });

describe('read-your-writes over asynchronous replicas', () => {
  afterAll(() => Promise.all([setReplay(false), setReplay(false, shardReplicas)]));

  it('shows an author their new post on their own page with the shard replicas paused', async () => {
    const author = await api.newUser('rywp');
    const physical = logicalShardForUser(author.id) % topology.physicalShards;
    // Only the author's shard cluster: its replicas stay behind every post written below.
    await setReplay(true, replicasOf(`shard-${physical}`));
    try {
      for (let i = 0; i < 5; i++) {
        const text = `post ${i} while replay is paused`;
        const created = await api.request<{ id: string }>('POST', '/api/posts', {
          token: author.token,
          body: { text },
        });
        expect(created.status).toBe(201);
        // The write invalidated the author's cached pages, so this read reaches a shard: as the
        // author (a token), it must go to the primary, and the page it fills must hold the post.
        const page = await api.request<{ items: { id: string }[] }>(
          'GET',
          `/api/posts?author=${author.id}`,
          { token: author.token },
        );
        expect(page.status).toBe(200);
        expect(page.body.items.map((p) => p.id)[0]).toBe(created.body.id);
        expect(page.body.items).toHaveLength(i + 1);
      }
    } finally {
      await setReplay(false, shardReplicas);
    }
  });

  it('answers 200 for a user others read before the replicas replayed the sign-up, not a cached 404', async () => {
    await setReplay(true);
    try {
      // A user row no cache has seen (written past the service, as a bulk import or the seeder
      // does; a sign-up through the API would write its profile through to the cache).
      const username = `rywn_${Date.now().toString(36)}`;
      const fresh = await withPostgres(
        'pg-main-primary',
        topology.database.name,
        async (c) =>
          (
            await c.query<{ id: string }>(
              `INSERT INTO users (username, email, password_hash) VALUES ($1, $2, 'x') RETURNING id::text AS id`,
              [username, `${username}@example.test`],
            )
          ).rows[0],
      );
      const missesBefore = await readsServedBy('primary', 'replica_miss');
      // Someone else's read (anonymous: no read-your-writes position), so it goes to a replica,
      // which has no such user yet; a 404 from it would be kept by the negative cache for 5 s.
      // (An anonymous `Cache-Control: no-cache` is not honoured: only the owner's is.)
      for (let i = 0; i < 4; i++) {
        const read = await api.request<{ id: string }>('GET', `/api/users/${fresh.id}`, {
          headers: { 'cache-control': 'no-cache' },
        });
        expect(read.status).toBe(200);
        expect(read.body.id).toBe(fresh.id);
      }
      expect(await readsServedBy('primary', 'replica_miss')).toBeGreaterThanOrEqual(
        missesBefore + 1,
      );
    } finally {
      await setReplay(false);
    }
  });

  it('never shows a caller an older profile than the one they wrote, with WAL replay paused on every replica', async () => {
    const me = await api.newUser('ryw');
    const other = await api.newUser('rywo');
    await setReplay(true);
    try {
      // 1,000 update-then-read pairs through NGINX (spread over both user processes).
      for (let i = 0; i < 1000; i++) {
        const bio = `bio ${i}`;
        const patch = await api.request('PATCH', '/api/users/me', {
          token: me.token,
          body: { bio },
        });
        expect(patch.status).toBe(200);
        const read = await api.request<{ bio: string }>('GET', `/api/users/${me.id}`, {
          token: me.token,
        });
        expect(read.body.bio).toBe(bio);
      }

      // Reads that skip the cache (Cache-Control: no-cache) reach the database: with the replicas
      // behind the caller's writes, they must be served by the primary.
      const laggingBefore = await readsServedBy('primary', 'lagging');
      for (let i = 0; i < 50; i++) {
        const following = i % 2 === 0 ? 1 : 0;
        const method = following ? 'POST' : 'DELETE';
        expect(
          (await api.request(method, `/api/users/${other.id}/follow`, { token: me.token })).status,
        ).toBe(204);
        const read = await api.request<{ followingCount: number }>('GET', `/api/users/${me.id}`, {
          token: me.token,
          headers: { 'cache-control': 'no-cache' },
        });
        expect(read.body.followingCount).toBe(following);
      }
      expect(await readsServedBy('primary', 'lagging')).toBeGreaterThanOrEqual(laggingBefore + 50);
    } finally {
      await setReplay(false);
    }

    // Once the replicas have replayed the caller's writes, their reads go to replicas again.
    // One more write after resuming, then reads only: each write moves the caller's required
    // position forward, and with asynchronous commit the replicas see it a WAL flush later.
    expect(
      (await api.request('POST', `/api/users/${other.id}/follow`, { token: me.token })).status,
    ).toBe(204);
    const replicaBefore = await readsServedBy('replica', 'replica');
    await waitFor(
      async () => {
        const before = await readsServedBy('replica', 'replica');
        await api.request('GET', `/api/users/${me.id}`, {
          token: me.token,
          headers: { 'cache-control': 'no-cache' },
        });
        return (await readsServedBy('replica', 'replica')) > before ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'reads to return to the replicas' },
    );
    expect(await readsServedBy('replica', 'replica')).toBeGreaterThan(replicaBefore);
  });
});
