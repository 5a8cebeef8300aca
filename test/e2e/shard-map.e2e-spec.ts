import { logicalShardForUser, logicalShardOfPostId, shardSchema } from '@murmur/database';
import {
  edgeApi,
  startServiceProcess,
  type StartedServiceProcess,
  testTopology,
  withPostgres,
} from '@murmur/testing';

/**
 * SHARD_MAP, against a real post process: started with one logical shard pinned to the physical
 * cluster it does not live on by default, it writes that shard's posts there and reads them back
 * from there, while the stack's own post processes (no SHARD_MAP) keep the default placement.
 * The process runs without its caches, so every read it answers comes from a shard.
 */
const t = testTopology();
const edge = edgeApi();

interface PostBody {
  id: string;
  authorId: string;
  text: string;
}

/** The post's row in a logical shard's schema on one physical cluster, if it is there. */
function rowOn(physical: number, logical: number, id: string): Promise<PostBody | undefined> {
  return withPostgres(`pg-shard-${physical}-primary`, t.database.shardDatabase, async (c) => {
    const { rows } = await c.query<PostBody>(
      `SELECT id::text AS id, author_id::text AS "authorId", text
         FROM ${shardSchema(logical)}.posts WHERE id = $1`,
      [id],
    );
    return rows[0];
  });
}

describe('SHARD_MAP: a logical shard pinned to another physical cluster', () => {
  let post: StartedServiceProcess | undefined;
  let author: Awaited<ReturnType<typeof edge.newUser>>;
  let logical: number;
  let placedByDefault: number;
  let pinned: number;

  beforeAll(async () => {
    // An author's posts live on the author's logical shard (the id is made by that shard's
    // schema and carries its number), so the author picks the shard to pin.
    author = await edge.newUser('shardmap');
    logical = logicalShardForUser(author.id);
    // The placement every process of the stack uses: logical shard modulo the physical clusters.
    placedByDefault = logical % t.physicalShards;
    pinned = (placedByDefault + 1) % t.physicalShards;
    post = await startServiceProcess({
      service: 'post',
      name: 'post-shard-map',
      env: {
        SHARD_MAP: JSON.stringify({ [logical]: pinned }),
        CACHE_L1_ENABLED: 'false',
        CACHE_L2_ENABLED: 'false',
      },
    });
  });

  afterAll(async () => {
    await post?.stop();
  });

  it("writes a post of the pinned shard to the mapped cluster, in that shard's schema, and reads it back there", async () => {
    const api = (post as StartedServiceProcess).api;
    const text = `pinned to shard-${pinned}`;
    const created = await api.request<PostBody>('POST', '/api/posts', {
      token: author.token,
      body: { text },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(logicalShardOfPostId(BigInt(id))).toBe(logical);

    // On the mapped cluster, not where the default placement would have put it.
    expect(await rowOn(pinned, logical, id)).toEqual({ id, authorId: author.id, text });
    expect(await rowOn(placedByDefault, logical, id)).toBeUndefined();

    // Read back through the process's own API, by id and on the author's page (both routed), as
    // the author: read-your-writes sends these reads to the primary, not a replica behind it.
    const byId = await api.request<PostBody>('GET', `/api/posts/${id}`, { token: author.token });
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({ id, authorId: author.id, text });
    const page = await api.request<{ items: PostBody[] }>('GET', `/api/posts?author=${author.id}`, {
      token: author.token,
    });
    expect(page.status).toBe(200);
    expect(page.body.items.map((p) => p.id)).toEqual([id]);

    // The stack's post processes, without the map, look for it on the default cluster.
    const elsewhere = await edge.request('GET', `/api/posts/${id}`);
    expect(elsewhere.status).toBe(404);
  });

  it('leaves every other logical shard where the default placement puts it', async () => {
    let other = await edge.newUser('shardmapo');
    for (let i = 0; i < 10 && logicalShardForUser(other.id) === logical; i++) {
      other = await edge.newUser('shardmapo');
    }
    const otherLogical = logicalShardForUser(other.id);
    expect(otherLogical).not.toBe(logical);

    const created = await (post as StartedServiceProcess).api.request<PostBody>(
      'POST',
      '/api/posts',
      { token: other.token, body: { text: 'placed by default' } },
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(logicalShardOfPostId(BigInt(id))).toBe(otherLogical);
    const home = otherLogical % t.physicalShards;
    expect(await rowOn(home, otherLogical, id)).toMatchObject({ id });
    expect(await rowOn((home + 1) % t.physicalShards, otherLogical, id)).toBeUndefined();
    expect((await edge.request('GET', `/api/posts/${id}`)).status).toBe(200);
  });
});
