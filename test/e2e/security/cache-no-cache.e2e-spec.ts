import { logicalShardOfPostId, shardSchema } from '@murmur/database';
import { edgeApi, sumMetric, testTopology, waitFor, withPostgres } from '@murmur/testing';

/**
 * OWASP API4:2023 (unrestricted resource consumption): `Cache-Control: no-cache` must not let any
 * client turn cached reads into source reads. The attack, through NGINX: a cached author page
 * asked for again and again with `no-cache`, anonymously and by a signed-in user who is not the
 * author. Before the fix each such request skipped the cache and its coalescing: a shard read, an
 * L2 write and an invalidation broadcast to every process, per request. Now only the author's own
 * `no-cache` reloads the page (they may have just changed it); anyone else is served the cached
 * page like any read. The post's text is changed in Postgres behind the cache's back, so what
 * each answer shows tells whether it came from the cache or the source. (Profiles: see
 * profile-no-cache.e2e-spec.ts.)
 */
const api = edgeApi();
const ATTEMPTS = 10;
const EDITED = 'edited at the source';

type Page = { items: Array<{ id: string; text: string }> };

/** Source loads of the author-posts cache over every post process (misses and no-cache reloads). */
async function sourceLoads(): Promise<{ loaded: number; refreshed: number }> {
  const [loaded, refreshed] = await Promise.all(
    ['loaded', 'refreshed'].map((outcome) =>
      sumMetric('post', 'murmur_cache_loads_total', { cache: 'author-posts', outcome }),
    ),
  );
  return { loaded, refreshed };
}

/** Run `sql` on a cluster's primary, then wait until each of its replicas answers `check`. */
async function onPrimaryThenReplicas(
  cluster: string,
  database: string,
  sql: string,
  check: string,
  params: unknown[],
): Promise<void> {
  const t = testTopology();
  await withPostgres(`${cluster}-primary`, database, (c) => c.query(sql, params));
  for (const node of t.postgres.filter((n) => n.name.startsWith(`${cluster}-replica-`))) {
    await waitFor(
      () =>
        withPostgres(node.name, database, async (c) =>
          (await c.query(check, params)).rows.length > 0 ? true : undefined,
        ),
      { timeoutMs: 5_000, what: `the change on ${node.name}` },
    );
  }
}

/** Change a post's text on its shard primary and wait until every replica has it. */
async function editBehindTheCache(postId: string): Promise<void> {
  const logical = logicalShardOfPostId(BigInt(postId));
  const t = testTopology();
  const schema = shardSchema(logical);
  await onPrimaryThenReplicas(
    `pg-shard-${logical % t.physicalShards}`,
    t.database.shardDatabase,
    `UPDATE ${schema}.posts SET text = $2 WHERE id = $1`,
    `SELECT 1 FROM ${schema}.posts WHERE id = $1 AND text = $2`,
    [postId, EDITED],
  );
}

describe('Cache-Control: no-cache on a cached author page (API4: honoured for the author only)', () => {
  it('serves everyone else’s no-cache from the cache, without a source read, and reloads for the author', async () => {
    const [author, other] = [await api.newUser('author'), await api.newUser('other')];
    const created = await api.request<{ id: string }>('POST', '/api/posts', {
      token: author.token,
      body: { text: 'original' },
    });
    expect(created.status).toBe(201);
    const page = `/api/posts?author=${author.id}`;
    const textOf = async (token?: string): Promise<string | undefined> => {
      const res = await api.untilAdmitted(() =>
        api.request<Page>('GET', page, { token, headers: { 'cache-control': 'no-cache' } }),
      );
      expect(res.status).toBe(200);
      return res.body.items[0]?.text;
    };
    // Cached: read past the new post's tag grace, so the load is kept.
    await new Promise((done) => setTimeout(done, 1_200));
    await waitFor(
      async () => {
        const res = await api.request<Page>('GET', page);
        return res.body.items[0]?.text === 'original' ? true : undefined;
      },
      { timeoutMs: 3_000, what: 'the cached first page' },
    );
    await editBehindTheCache(created.body.id);

    const before = await sourceLoads();
    const answers: Array<string | undefined> = [];
    for (let i = 0; i < ATTEMPTS; i++) {
      answers.push(await textOf());
      answers.push(await textOf(other.token));
    }
    const after = await sourceLoads();
    expect(answers).toEqual(answers.map(() => 'original'));
    expect({
      loaded: after.loaded - before.loaded,
      refreshed: after.refreshed - before.refreshed,
    }).toEqual({ loaded: 0, refreshed: 0 });

    // The author's own no-cache reads the source, and the cache then holds what it read.
    await expect(textOf(author.token)).resolves.toBe(EDITED);
    expect((await sourceLoads()).refreshed - after.refreshed).toBe(1);
    await waitFor(
      async () =>
        (await api.request<Page>('GET', page)).body.items[0]?.text === EDITED ? true : undefined,
      { timeoutMs: 2_000, what: 'the reloaded page for every reader' },
    );
  });
});
