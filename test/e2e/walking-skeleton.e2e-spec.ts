import { logicalShardForUser, logicalShardOfPostId, shardSchema } from '@murmur/database';
import { edgeApi, testTopology, waitFor, withPostgres } from '@murmur/testing';

const api = edgeApi();

describe('the walking skeleton, through NGINX', () => {
  it('delivers a post to a follower’s feed, stores it on the author’s shard and ranks the author', async () => {
    const a = await api.newUser('a');
    const b = await api.newUser('b');

    const follow = await api.request('POST', `/api/users/${a.id}/follow`, { token: b.token });
    expect(follow.status).toBe(204);

    const posts: Array<{ id: string; authorId: string; text: string; createdAt: string }> = [];
    for (const text of ['first', 'second', 'third']) {
      const created = await api.request<{
        id: string;
        authorId: string;
        text: string;
        createdAt: string;
      }>('POST', '/api/posts', {
        token: a.token,
        body: { text },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ authorId: a.id, text });
      posts.push(created.body);
    }

    // B's home timeline shows A's posts, newest first, within 2 s (fan-out on write by the worker).
    const feed = await waitFor(
      async () => {
        const res = await api.request<{ items: Array<{ id: string }>; nextCursor: string | null }>(
          'GET',
          '/api/feed?limit=10',
          {
            token: b.token,
          },
        );
        return res.status === 200 && res.body.items.length === 3 ? res.body : undefined;
      },
      { timeoutMs: 2_000, what: "B's feed to show A's posts" },
    );
    expect(feed.items.map((i) => i.id)).toEqual(posts.map((p) => p.id).reverse());

    // The id encodes the author's logical shard, and the row is on the physical shard that holds it.
    const logical = logicalShardForUser(a.id);
    const id = BigInt(posts[0].id);
    expect(logicalShardOfPostId(id)).toBe(logical);
    const t = testTopology();
    const physical = logical % t.physicalShards;
    const found = await withPostgres(
      `pg-shard-${physical}-primary`,
      t.database.shardDatabase,
      async (c) =>
        (
          await c.query<{ author_id: string }>(
            `SELECT author_id::text FROM ${shardSchema(logical)}.posts WHERE id = $1`,
            [posts[0].id],
          )
        ).rows,
    );
    expect(found).toEqual([{ author_id: a.id }]);
    const elsewhere = await withPostgres(
      `pg-shard-${1 - physical}-primary`,
      t.database.shardDatabase,
      async (c) =>
        (
          await c.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${shardSchema(logical)}.posts WHERE id = $1`,
            [posts[0].id],
          )
        ).rows,
    );
    expect(elsewhere).toEqual([{ n: 0 }]);

    // A is on the posters board with three posts, ranked by score (other test files may post
    // more, so A need not lead; ranks are 1-based and scores never increase down the board).
    const board = await waitFor(
      async () => {
        const res = await api.request<{
          entries: Array<{ userId: string; score: number; rank: number }>;
        }>('GET', '/api/leaderboards/posters?limit=100');
        const mine = res.body.entries.find((e) => e.userId === a.id);
        return mine?.score === 3 ? { entries: res.body.entries, mine } : undefined;
      },
      { timeoutMs: 5_000, what: 'A on the posters board with 3 posts' },
    );
    expect(board.entries.filter((e) => e.score > 3).length).toBeLessThan(board.mine.rank);
    board.entries.forEach((e, i) => {
      expect(e.rank).toBe(i + 1);
      if (i > 0) expect(e.score).toBeLessThanOrEqual(board.entries[i - 1].score);
    });

    // A post is readable by id, and a second page continues where the first ended.
    const byId = await api.request('GET', `/api/posts/${posts[1].id}`);
    expect(byId.status).toBe(200);
    const page1 = await api.request<{ items: Array<{ id: string }>; nextCursor: string }>(
      'GET',
      '/api/feed?limit=2',
      { token: b.token },
    );
    const page2 = await api.request<{ items: Array<{ id: string }>; nextCursor: string | null }>(
      'GET',
      `/api/feed?limit=2&cursor=${page1.body.nextCursor}`,
      { token: b.token },
    );
    expect(page2.body.items.map((i) => i.id)).toEqual([posts[0].id]);

    // Unfollow answers 204, and the profile counts follow the graph.
    const profile = await api.request<{ followerCount: number }>('GET', `/api/users/${a.id}`);
    expect(profile.body.followerCount).toBe(1);
    expect(
      (await api.request('DELETE', `/api/users/${a.id}/follow`, { token: b.token })).status,
    ).toBe(204);
  });

  it('answers 409 for a taken username and 401 for a wrong password', async () => {
    const a = await api.newUser('dup');
    const again = await api.request('POST', '/api/users', {
      body: {
        username: a.username,
        email: `other-${a.username}@example.test`,
        password: 'long-enough-1',
      },
    });
    expect(again.status).toBe(409);
    expect(again.contentType).toContain('application/problem+json');
    const wrong = await api.request('POST', '/api/sessions', {
      body: { username: a.username, password: 'not-the-password' },
    });
    expect(wrong.status).toBe(401);
    const unknown = await api.request('POST', '/api/sessions', {
      body: { username: 'nobody_here', password: 'whatever-1' },
    });
    expect(unknown.status).toBe(401);
  });

  it('sets an HttpOnly cookie on login that authenticates like the bearer token, and logs out', async () => {
    const a = await api.newUser('cookie');
    const login = await api.request('POST', '/api/sessions', {
      body: { username: a.username, password: a.password },
    });
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/murmur_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax/);
    const me = await api.request('GET', '/api/users/me', {
      headers: { cookie: cookie.split(';')[0] },
    });
    expect(me.status).toBe(200);
    expect((await api.request('DELETE', '/api/sessions/current', { token: a.token })).status).toBe(
      204,
    );
    expect((await api.request('GET', '/api/users/me', { token: a.token })).status).toBe(401);
  });
});
