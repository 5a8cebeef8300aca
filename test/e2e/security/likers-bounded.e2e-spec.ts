import { logicalShardOfPostId, shardSchema } from '@murmur/database';
import { edgeApi, testTopology, waitFor, withPostgres } from '@murmur/testing';
import { Redis } from 'ioredis';
import type { Client } from 'pg';

/**
 * OWASP API4:2023 (unrestricted resource consumption): one like must not block the data Redis.
 * The attack: a post with 20,000 likers in Postgres whose like keys are not in Redis (never
 * loaded, or expired after the idle time), then one like through NGINX. Before the fix that like
 * loaded every liker from the shard primary into one `EVAL` of 20,000+ arguments, a script that
 * holds the single-threaded Redis for everyone while it runs (and grows with the post); now a cold
 * post loads its count and the one user's membership, and no command of the like carries more than
 * a handful of arguments. The answers stay exact: a liker Postgres knows is not counted twice.
 */
const api = edgeApi();
const LIKERS = 20_000;
/** far more than any command of a like needs; the old load took one argument per liker */
const MAX_ARGS = 100;
/** user ids no real test user has (ids of the seeded likers) */
const FAKE_USER_BASE = 8_000_000_000_000_000_000n;

interface LikeState {
  postId: string;
  liked: boolean;
  likeCount: number;
}

async function onShard<T>(postId: string, fn: (c: Client, schema: string) => Promise<T>) {
  const logical = logicalShardOfPostId(BigInt(postId));
  const t = testTopology();
  return withPostgres(
    `pg-shard-${logical % t.physicalShards}-primary`,
    t.database.shardDatabase,
    (c) => fn(c, shardSchema(logical)),
  );
}

/** The arguments of a SLOWLOG entry, counting the ones Redis left out ("... (N more arguments)"). */
function argumentCount(args: string[]): number {
  const more = /^\.\.\. \((\d+) more arguments\)$/.exec(args[args.length - 1] ?? '');
  return more ? args.length - 1 + Number(more[1]) : args.length;
}

/**
 * Every command the data Redis ran while `fn` ran, with its argument count: the slow log set to
 * record every command (0 µs), restored after.
 */
async function commandsDuring(
  redis: Redis,
  fn: () => Promise<void>,
): Promise<Array<{ command: string; args: number; micros: number }>> {
  const [, slower] = (await redis.config('GET', 'slowlog-log-slower-than')) as string[];
  const [, maxLen] = (await redis.config('GET', 'slowlog-max-len')) as string[];
  await redis.config('SET', 'slowlog-max-len', '100000');
  await redis.config('SET', 'slowlog-log-slower-than', '0');
  await redis.slowlog('RESET');
  try {
    await fn();
    const entries = (await redis.slowlog('GET', -1)) as Array<[number, number, number, string[]]>;
    return entries.map(([, , micros, args]) => ({
      command: String(args[0]).toLowerCase(),
      args: argumentCount(args),
      micros,
    }));
  } finally {
    await redis.config('SET', 'slowlog-log-slower-than', slower);
    await redis.config('SET', 'slowlog-max-len', maxLen);
  }
}

describe('a like of a post with many likers (API4: one request cannot block Redis)', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(
      testTopology().redis.find((r) => r.purpose === 'queue')?.port ?? 0,
      '127.0.0.1',
    );
  });

  afterAll(async () => {
    await redis?.quit();
  });

  it('loads a cold post’s count and one membership, not 20,000 likers in one command, and counts exactly', async () => {
    const [author, fan, newcomer] = [
      await api.newUser('author'),
      await api.newUser('fan'),
      await api.newUser('newcomer'),
    ];
    const created = await api.request<{ id: string }>('POST', '/api/posts', {
      token: author.token,
      body: { text: 'liked by twenty thousand' },
    });
    expect(created.status).toBe(201);
    const postId = created.body.id;

    // 20,000 likers in Postgres, as flushes long ago left them, the fan among them; the post's
    // like keys are not in Redis (a cold post: never loaded since, or expired).
    await onShard(postId, async (c, s) => {
      await c.query(
        `INSERT INTO ${s}.post_likes (post_id, user_id)
         SELECT $1::bigint, $2::bigint + g FROM generate_series(1, $3::int) AS g
         UNION ALL SELECT $1::bigint, $4::bigint`,
        [postId, FAKE_USER_BASE.toString(), LIKERS - 1, fan.id],
      );
      await c.query(`UPDATE ${s}.posts SET like_count = $2 WHERE id = $1`, [postId, LIKERS]);
    });
    const cold = await redis.keys(`likes:*:${postId}`);
    expect(cold).toEqual([]);

    let answer: { status: number; body: LikeState } | undefined;
    const commands = await commandsDuring(redis, async () => {
      answer = await api.untilAdmitted(() =>
        api.request<LikeState>('PUT', `/api/posts/${postId}/like`, { token: newcomer.token }),
      );
    });
    expect(answer?.status).toBe(200);
    expect(answer?.body).toEqual({ postId, liked: true, likeCount: LIKERS + 1 });
    // The like did reach Redis (the log is not empty of it) …
    expect(commands.some((c) => c.command === 'eval' || c.command === 'evalsha')).toBe(true);
    // … and no command carried the likers.
    expect(commands.filter((c) => c.args > MAX_ARGS)).toEqual([]);

    // Exact answers without the list: the fan, a liker Postgres knows, is not counted again; the
    // newcomer's second like changes nothing; the fan's unlike counts.
    const like = (token: string, method: 'PUT' | 'DELETE') =>
      api.untilAdmitted(() =>
        api.request<LikeState>(method, `/api/posts/${postId}/like`, { token }),
      );
    await expect(like(fan.token, 'PUT')).resolves.toMatchObject({
      status: 200,
      body: { liked: true, likeCount: LIKERS + 1 },
    });
    await expect(like(newcomer.token, 'PUT')).resolves.toMatchObject({
      body: { likeCount: LIKERS + 1 },
    });
    await expect(like(fan.token, 'DELETE')).resolves.toMatchObject({
      status: 200,
      body: { liked: false, likeCount: LIKERS },
    });
    await expect(like(fan.token, 'DELETE')).resolves.toMatchObject({
      body: { likeCount: LIKERS },
    });
    const read = await api.request<{ likeCount: number }>('GET', `/api/posts/${postId}`);
    expect(read.body.likeCount).toBe(LIKERS);

    // Postgres agrees once the write-behind flush ran: the newcomer in, the fan out.
    await waitFor(
      () =>
        onShard(postId, async (c, s) => {
          const row = await c.query<{ like_count: number; rows: string; fan: boolean }>(
            `SELECT like_count,
                    (SELECT count(*) FROM ${s}.post_likes WHERE post_id = $1) AS rows,
                    EXISTS (SELECT 1 FROM ${s}.post_likes WHERE post_id = $1 AND user_id = $2) AS fan
               FROM ${s}.posts WHERE id = $1`,
            [postId, fan.id],
          );
          const r = row.rows[0];
          return r.like_count === LIKERS && Number(r.rows) === LIKERS && !r.fan ? r : undefined;
        }),
      { timeoutMs: 10_000, what: 'the flush of the like and the unlike' },
    );
  });
});
