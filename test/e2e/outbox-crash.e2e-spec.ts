import { spawn } from 'node:child_process';
import { eventId } from '@murmur/queue';
import { serviceEnv } from '@murmur/stack';
import { edgeApi, REPO_ROOT, testTopology, waitFor, withPostgres } from '@murmur/testing';
import { Redis } from 'ioredis';

const api = edgeApi();
const t = testTopology();

/**
 * A post process that dies between its commit and its enqueue: a child process runs the post
 * service's own repository (dist/, the code the services run) to store a post with its
 * `post.created` event, prints the id and SIGKILLs itself before it could publish anything. The
 * post must still reach the follower's feed and the posters board: the live post processes'
 * outbox relays find the unsent event and deliver it.
 */
const CHILD = `
const { ReplicatedCluster, ShardRouter, createDataSource } = require('./dist/libs/database/src');
const { PostsRepository } = require('./dist/services/post/src/posts/posts.repository');
(async () => {
  const shards = JSON.parse(process.env.SHARDS);
  const clusters = await Promise.all(shards.map(async (s, i) => {
    const primary = createDataSource({ url: s.primary, name: 'outbox-crash', poolSize: 1 });
    await primary.initialize();
    return new ReplicatedCluster('shard-' + i, primary, [], { replicasEnabled: false, pollMs: 100 });
  }));
  const { row } = await new PostsRepository(new ShardRouter(clusters)).insert(process.env.AUTHOR, 'committed, then crashed');
  if (!row || !row.id) throw new Error('the repository returned no post');
  process.stdout.write(JSON.stringify({ id: row.id }) + '\\n', () => process.kill(process.pid, 'SIGKILL'));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function commitThenCrash(authorId: string): Promise<{ postId: string; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD], {
      cwd: REPO_ROOT,
      env: { ...process.env, SHARDS: serviceEnv(t, t.services[0]).SHARDS, AUTHOR: authorId },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      const id = line ? (JSON.parse(line) as { id?: string }).id : undefined;
      if (!id) {
        reject(new Error(`the child printed no post id:\n${out}`));
        return;
      }
      resolve({ postId: id, signal });
    });
  });
}

/** The post's `post.created` rows in every shard's outbox, with the job id they are sent under. */
async function outboxRows(postId: string): Promise<Array<{ sent: boolean; event: string }>> {
  const shards = t.postgres.filter((n) => n.cluster.startsWith('shard-') && n.role === 'primary');
  const found = await Promise.all(
    shards.map((n) =>
      withPostgres(n.name, t.database.shardDatabase, async (c) =>
        (
          await c.query<{ sent: boolean; id: string }>(
            `SELECT sent_at IS NOT NULL AS sent, id::text AS id FROM outbox
             WHERE name = 'post.created' AND payload->>'postId' = $1`,
            [postId],
          )
        ).rows.map((r) => ({ sent: r.sent, event: eventId(n.cluster, r.id) })),
      ),
    ),
  );
  return found.flat();
}

describe('a crash between commit and enqueue (transactional outbox)', () => {
  it('delivers the fan-out and the score of a post whose process died right after its commit', async () => {
    const author = await api.newUser('obx');
    const follower = await api.newUser('obxf');
    expect(
      (await api.request('POST', `/api/users/${author.id}/follow`, { token: follower.token }))
        .status,
    ).toBe(204);

    const { postId, signal } = await commitThenCrash(author.id);
    expect(signal).toBe('SIGKILL');

    // Nobody enqueued anything for this post: only a relay reading the outbox can deliver it.
    const feed = await waitFor(
      async () => {
        const res = await api.request<{ items: Array<{ id: string }> }>('GET', '/api/feed', {
          token: follower.token,
        });
        return res.body.items?.some((i) => i.id === postId) ? res.body.items : undefined;
      },
      { timeoutMs: 10_000, what: "the crashed process's post in the follower's feed" },
    ).catch(async (error: Error) => {
      // Say where it stopped: the outbox row, the author's list, the follow graph, the timeline.
      const redis = new Redis(t.redis.find((r) => r.purpose === 'queue')?.port ?? 0, '127.0.0.1');
      const state = {
        outbox: await outboxRows(postId),
        authored: await redis.zscore(`feed:authored:${author.id}`, postId),
        followed: await redis.sismember(`feed:followers:${author.id}`, follower.id),
        timeline: await redis.zscore(`timeline:${follower.id}`, postId),
        feedJob: await redis.hgetall(`murmur:feed:${(await outboxRows(postId))[0]?.event ?? ''}`),
      };
      redis.disconnect();
      throw new Error(`${error.message}; state ${JSON.stringify(state)}`);
    });
    expect(feed.map((i) => i.id)).toContain(postId);
    await waitFor(async () => ((await api.posterScore(author.id)) === 1 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the author on the posters board with 1 point',
    });

    // The event row is marked sent, once.
    const rows = (await outboxRows(postId)).map((r) => ({ sent: r.sent }));
    expect(rows).toEqual([{ sent: true }]);
  });
});
