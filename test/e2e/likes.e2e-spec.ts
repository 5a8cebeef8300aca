import { logicalShardOfPostId, shardSchema } from '@murmur/database';
import {
  ApiClient,
  edgeApi,
  processMetric,
  testTopology,
  waitFor,
  withPostgres,
} from '@murmur/testing';

const api = edgeApi();

interface LikeState {
  postId: string;
  liked: boolean;
  likeCount: number;
}

/** The post's row and like rows on its shard primary: what write-behind has flushed so far. */
async function stored(postId: string): Promise<{ likeCount: number; likeRows: number }> {
  const logical = logicalShardOfPostId(BigInt(postId));
  const t = testTopology();
  return withPostgres(
    `pg-shard-${logical % t.physicalShards}-primary`,
    t.database.shardDatabase,
    async (c) => {
      const s = shardSchema(logical);
      const row = await c.query<{ like_count: number; rows: string }>(
        `SELECT like_count, (SELECT count(*) FROM ${s}.post_likes WHERE post_id = $1) AS rows
           FROM ${s}.posts WHERE id = $1`,
        [postId],
      );
      return { likeCount: row.rows[0].like_count, likeRows: Number(row.rows[0].rows) };
    },
  );
}

/** The post worker's flush counters. */
async function flushed(): Promise<Record<string, number>> {
  const worker = testTopology().services.find((s) => s.name === 'post-worker');
  const port = worker?.port ?? 0;
  const [changes, rounds] = await Promise.all(
    ['changes', 'rounds'].map((unit) => processMetric(port, 'murmur_like_flushed_total', { unit })),
  );
  return { changes, rounds };
}

describe('likes, written behind through Redis to the post shards', () => {
  it('counts concurrent and repeated likes exactly, answers from Redis, and flushes in coalesced batches', async () => {
    const author = await api.newUser('author');
    const created = await api.request<{ id: string }>('POST', '/api/posts', {
      token: author.token,
      body: { text: 'like me' },
    });
    expect(created.status).toBe(201);
    const postId = created.body.id;
    const likers = await Promise.all(Array.from({ length: 40 }, () => api.newUser('liker')));
    const before = await flushed();

    // Every liker likes twice at once (a double tap): PUT is idempotent, so 40 likes, not 80.
    // A shed answer (503 overloaded, Retry-After) is sent again, as a client would.
    const answers = await Promise.all(
      likers.flatMap((u) =>
        [0, 1].map(() =>
          api.untilAdmitted(() =>
            api.request<LikeState>('PUT', `/api/posts/${postId}/like`, { token: u.token }),
          ),
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(answers.every((a) => a.body.liked && a.body.postId === postId)).toBe(true);
    expect(Math.max(...answers.map((a) => a.body.likeCount))).toBe(40);

    // Readers see the live count at once, before any flush (the row's count lags).
    const read = await api.request<{ likeCount: number }>('GET', `/api/posts/${postId}`);
    expect(read.body.likeCount).toBe(40);

    // Postgres catches up within a few flush windows, with exactly one row per liker.
    await waitFor(
      async () => {
        const s = await stored(postId);
        return s.likeCount === 40 && s.likeRows === 40 ? s : undefined;
      },
      { timeoutMs: 10_000, what: 'the flush of 40 likes' },
    );
    // Coalesced: 40 changes reached Postgres in far fewer flush rounds.
    const after = await flushed();
    const changes = (after.changes ?? 0) - (before.changes ?? 0);
    const rounds = (after.rounds ?? 0) - (before.rounds ?? 0);
    expect(changes).toBeGreaterThanOrEqual(40);
    expect(rounds).toBeGreaterThanOrEqual(1);
    expect(rounds).toBeLessThan(changes / 4);

    // Ten unlike, twice each; the count and the rows follow.
    const unlikes = await Promise.all(
      likers
        .slice(0, 10)
        .flatMap((u) =>
          [0, 1].map(() =>
            api.untilAdmitted(() =>
              api.request<LikeState>('DELETE', `/api/posts/${postId}/like`, { token: u.token }),
            ),
          ),
        ),
    );
    expect(unlikes.every((a) => a.status === 200 && !a.body.liked)).toBe(true);
    const page = await api.request<{ items: Array<{ id: string; likeCount: number }> }>(
      'GET',
      `/api/posts?author=${author.id}`,
    );
    expect(page.body.items.find((p) => p.id === postId)?.likeCount).toBe(30);
    await waitFor(
      async () => {
        const s = await stored(postId);
        return s.likeCount === 30 && s.likeRows === 30 ? s : undefined;
      },
      { timeoutMs: 10_000, what: 'the flush of 10 unlikes' },
    );
  });

  it('answers 404 for an unknown post, 400 for a malformed id and 401 without a session', async () => {
    const u = await api.newUser('liker');
    const unknown = await api.request('PUT', '/api/posts/4611686018427387904/like', {
      token: u.token,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.contentType).toContain('application/problem+json');
    const malformed = await api.request('PUT', '/api/posts/abc/like', { token: u.token });
    expect(malformed.status).toBe(400);
    const anonymous = await api.request('PUT', '/api/posts/123/like');
    expect(anonymous.status).toBe(401);
  });
});

describe('an author’s posts, cached by page and invalidated by tag', () => {
  it('pages newest first and shows a new post on the next read', async () => {
    const author = await api.newUser('author');
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      const res = await api.request<{ id: string }>('POST', '/api/posts', {
        token: author.token,
        body: { text },
      });
      ids.push(res.body.id);
    }
    type Page = { items: Array<{ id: string; text: string }>; nextCursor: string | null };
    const first = await waitFor(
      async () => {
        const res = await api.request<Page>('GET', `/api/posts?author=${author.id}&limit=2`);
        return res.status === 200 && res.body.items.length === 2 && res.body.items[0].id === ids[2]
          ? res.body
          : undefined;
      },
      { timeoutMs: 3_000, what: 'the first page' },
    );
    expect(first.items.map((p) => p.id)).toEqual([ids[2], ids[1]]);
    expect(first.nextCursor).toBe(ids[1]);
    const second = await api.request<Page>(
      'GET',
      `/api/posts?author=${author.id}&limit=2&before=${first.nextCursor}`,
    );
    expect(second.body.items.map((p) => p.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();

    // The cached first page is invalidated by the author's next post (tag `author:<id>`) in every
    // post process, not only the one that wrote it: each is read on its own port, having cached
    // the page first (a read through the edge could land on the writer and prove nothing).
    const processes = testTopology()
      .services.filter((s) => s.service === 'post' && s.entry === 'main')
      .map((s) => new ApiClient(`http://127.0.0.1:${s.port}`));
    expect(processes.length).toBeGreaterThanOrEqual(2);
    const firstPageOf = async (client: ApiClient): Promise<string | undefined> =>
      (await client.request<Page>('GET', `/api/posts?author=${author.id}&limit=2`)).body.items[0]
        ?.id;
    for (const client of processes) {
      await expect(firstPageOf(client)).resolves.toBe(ids[2]);
    }
    const fourth = await api.request<{ id: string }>('POST', '/api/posts', {
      token: author.token,
      body: { text: 'four' },
    });
    for (const client of processes) {
      await waitFor(
        async () => ((await firstPageOf(client)) === fourth.body.id ? true : undefined),
        { timeoutMs: 3_000, what: `the new post on the first page of ${client.baseUrl}` },
      );
    }
  });

  it('refuses bad queries with 400 problem+json', async () => {
    for (const query of [
      '',
      'author=abc',
      'author=1&limit=0',
      'author=1&limit=51',
      'author=1&before=x',
      'author=1&color=red',
    ]) {
      const res = await api.request('GET', `/api/posts?${query}`);
      expect([query, res.status]).toEqual([query, 400]);
      expect(res.contentType).toContain('application/problem+json');
    }
  });
});
