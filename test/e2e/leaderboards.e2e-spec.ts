import { randomBytes } from 'node:crypto';
import {
  DERIVED_KEYS,
  encodeMember,
  LEADERBOARD_JOBS,
  QUEUES,
  type ScoreJob,
  windowAt,
  windowKey,
} from '@murmur/contracts';
import { QUEUE_PREFIX } from '@murmur/queue';
import { edgeApi, testTopology, waitFor, withPostgres } from '@murmur/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const api = edgeApi();
const t = testTopology();
const redisPort = t.redis.find((r) => r.purpose === 'queue')?.port ?? 0;

type Entry = { userId?: string; postId?: string; score: number; rank: number };
type Board = { board: string; window: string; period: string; entries: Entry[]; member?: Entry };

/** The main cluster's current primary (an earlier spec may have failed it over and back). */
async function mainPrimary(): Promise<string> {
  for (const node of t.postgres.filter((n) => n.cluster === 'main')) {
    const standby = await withPostgres(
      node.name,
      t.database.name,
      async (c) => (await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0].r,
    ).catch(() => true);
    if (!standby) {
      return node.name;
    }
  }
  throw new Error('no main node is primary');
}

async function board(path: string, token?: string): Promise<Board> {
  const res = await api.request<Board>('GET', path, { token });
  expect(res.status).toBe(200);
  return res.body;
}

const byId = (a: { id: string }, b: { id: string }): number =>
  BigInt(a.id) < BigInt(b.id) ? -1 : 1;

/**
 * Leaderboards per window (docs/patterns/leaderboards.md). Score jobs are enqueued here the way
 * the outbox relay enqueues them (with an event time), so a test can place points on either side
 * of midnight UTC; likes go through the API, the write-behind flush and the shard's outbox.
 * Scores are far above what other specs earn, so the top of each board is this spec's.
 */
describe('leaderboards per window', () => {
  const redis = new Redis(redisPort, '127.0.0.1');
  const queue = new Queue(QUEUES.leaderboard, {
    connection: { host: '127.0.0.1', port: redisPort },
    prefix: QUEUE_PREFIX,
  });
  afterAll(async () => {
    await queue.close();
    redis.disconnect();
  });

  const run = randomBytes(4).toString('hex');
  let seq = 0;
  async function score(board: string, memberId: string, delta: number, at: number): Promise<void> {
    const data: ScoreJob = { board, userId: memberId, delta, eventId: `e2e-${run}-${seq++}`, at };
    await queue.add(LEADERBOARD_JOBS.score, data, { jobId: data.eventId });
  }

  /**
   * Ask the worker for a refresh (as its schedule does) until the view holds `what`: a refresh
   * that ran beside the score jobs (the worker runs jobs concurrently) may predate them.
   */
  async function refreshUntil(sql: string, params: unknown[], what: string): Promise<void> {
    await waitFor(
      async () => {
        await queue.add(LEADERBOARD_JOBS.refreshViews, {}, { jobId: `refresh-${run}-${seq++}` });
        await new Promise((r) => setTimeout(r, 500));
        return withPostgres(await mainPrimary(), t.database.name, async (c) =>
          (await c.query(sql, params)).rows.length > 0 ? true : undefined,
        );
      },
      { timeoutMs: 20_000, intervalMs: 500, what },
    );
  }

  /** A board read until it answers 200: the API reads the view on a replica, a moment behind. */
  async function boardOnceReplayed(path: string): Promise<Board> {
    return waitFor(
      async () => {
        const res = await api.request<Board>('GET', path);
        return res.status === 200 ? res.body : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: `200 from ${path}` },
    );
  }

  const now = Date.now();
  const today = windowAt('daily', now);
  const lastMsOfYesterday = today.startMs - 1;
  const yesterday = windowAt('daily', lastMsOfYesterday);
  const week = windowAt('weekly', now);
  let users: Array<{ id: string; token: string }> = [];

  it("ranks a day's board with ties lower id first, rolling over at 00:00 UTC, and shows me my place", async () => {
    users = (await Promise.all([1, 2, 3, 4].map(() => api.newUser('lb')))).sort(byId);
    const [a, b, c, d] = users;
    await score('posters', d.id, 1003, today.startMs);
    await score('posters', b.id, 1002, today.startMs + 1);
    await score('posters', a.id, 1002, today.startMs + 2);
    // c: 1002 at 00:00:00.000 today, 500 at 23:59:59.999 yesterday
    await score('posters', c.id, 1002, today.startMs);
    await score('posters', c.id, 500, lastMsOfYesterday);

    const daily = await waitFor(
      async () => {
        const top = await board('/api/leaderboards/posters?window=daily&limit=4');
        return top.entries.length === 4 && top.entries[3].score === 1002 ? top : undefined;
      },
      { timeoutMs: 15_000, what: "the four on today's board" },
    );
    expect(daily).toMatchObject({ board: 'posters', window: 'daily', period: today.period });
    // equal scores: lower id first, and the ranks count in that order
    expect(daily.entries).toEqual([
      { userId: d.id, score: 1003, rank: 1 },
      { userId: a.id, score: 1002, rank: 2 },
      { userId: b.id, score: 1002, rank: 3 },
      { userId: c.id, score: 1002, rank: 4 },
    ]);

    // All-time holds both days' points; the week holds yesterday's only if it is the same week.
    const all = await waitFor(
      async () => {
        const top = await board('/api/leaderboards/posters?limit=4');
        return top.entries[0]?.score === 1502 ? top : undefined;
      },
      { timeoutMs: 15_000, what: "c's 1502 on the all-time board" },
    );
    expect(all.window).toBe('all');
    expect(all.entries.map((e) => [e.userId, e.rank])).toEqual([
      [c.id, 1],
      [d.id, 2],
      [a.id, 3],
      [b.id, 4],
    ]);
    const weekly = await board('/api/leaderboards/posters?window=weekly&limit=1');
    expect(weekly.period).toBe(week.period);
    expect(weekly.entries[0]).toEqual({
      userId: c.id,
      score: windowAt('weekly', lastMsOfYesterday).period === week.period ? 1502 : 1002,
      rank: 1,
    });

    // around: the member, its rank and its neighbours, from the same ordering
    const around = await board(`/api/leaderboards/posters?window=daily&around=${b.id}&span=1`);
    expect(around.member).toEqual({ userId: b.id, score: 1002, rank: 3 });
    expect(around.entries).toEqual([
      { userId: a.id, score: 1002, rank: 2 },
      { userId: b.id, score: 1002, rank: 3 },
      { userId: c.id, score: 1002, rank: 4 },
    ]);
    // me: personal, never stored by a cache; the board itself is public
    const me = await api.request<Board>('GET', '/api/leaderboards/posters/me?window=daily&span=1', {
      token: c.token,
    });
    expect(me.status).toBe(200);
    expect(me.headers.get('cache-control')).toBe('no-store');
    expect(me.body.member).toEqual({ userId: c.id, score: 1002, rank: 4 });
    expect(me.body.entries.slice(0, 2)).toEqual([
      { userId: b.id, score: 1002, rank: 3 },
      { userId: c.id, score: 1002, rank: 4 },
    ]);
    const open = await api.request('GET', '/api/leaderboards/posters?window=daily');
    expect(open.headers.get('cache-control')).toMatch(/^public, max-age=\d+/);
    expect((await api.request('GET', '/api/leaderboards/posters/me')).status).toBe(401);
    const nobody = await api.request<{ code: string }>(
      'GET',
      `/api/leaderboards/posters?window=daily&around=${BigInt(d.id) + 1_000_000n}`,
    );
    expect(nobody.status).toBe(404);
    expect(nobody.body.code).toBe('not_ranked');
    const wrong = await api.request<{ code: string }>(
      'GET',
      '/api/leaderboards/posters?window=daily&period=2026-W49',
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe('invalid_period');

    // yesterday's board: c's 500 from 23:59:59.999 (Redis in its grace, the view after)
    await refreshUntil(
      `SELECT 1 FROM leaderboard_window_scores WHERE board = 'posters' AND period = 'daily'
          AND period_start = $1 AND member_id = $2 AND score = 500`,
      [new Date(yesterday.startMs).toISOString(), c.id],
      "yesterday's 500 in the view",
    );
    const past = await boardOnceReplayed(
      `/api/leaderboards/posters?window=daily&period=${yesterday.period}&around=${c.id}&span=0`,
    );
    expect(past.member).toEqual({ userId: c.id, score: 500, rank: 1 });
  });

  it('serves a past week from the materialized view, refreshed concurrently by the worker, ties included', async () => {
    const [a, b, c] = (await Promise.all([1, 2, 3].map(() => api.newUser('lbh')))).sort(byId);
    const inW10 = Date.parse('2020-03-04T12:00:00Z'); // 2020-W10
    await score('posters', c.id, 7, inW10);
    await score('posters', b.id, 9, inW10);
    await score('posters', a.id, 7, inW10);
    await refreshUntil(
      `SELECT 1 FROM leaderboard_window_scores WHERE board = 'posters' AND period = 'weekly'
          AND member_id = ANY($1::bigint[]) HAVING count(*) = 3`,
      [[a.id, b.id, c.id]],
      'the three in 2020-W10 in the view',
    );
    const history = await waitFor(
      async () => {
        const top = await board('/api/leaderboards/posters?window=weekly&period=2020-W10');
        return top.entries.length === 3 ? top : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'the three of 2020-W10 on a replica' },
    );
    expect(history).toMatchObject({ window: 'weekly', period: '2020-W10' });
    expect(history.entries).toEqual([
      { userId: b.id, score: 9, rank: 1 },
      { userId: a.id, score: 7, rank: 2 },
      { userId: c.id, score: 7, rank: 3 },
    ]);
    const around = await board(
      `/api/leaderboards/posters?window=weekly&period=2020-W10&around=${c.id}&span=1`,
    );
    expect(around.member).toEqual({ userId: c.id, score: 7, rank: 3 });
    expect(around.entries.map((e) => e.rank)).toEqual([2, 3]);
    const day = await board('/api/leaderboards/posters?window=daily&period=2020-03-04');
    expect(day.entries.map((e) => e.userId)).toEqual([b.id, a.id, c.id]);
    // a past window never has a Redis key: it is read from the view
    expect(await redis.exists(windowKey('posters', { window: 'weekly', period: '2020-W10' }))).toBe(
      0,
    );
  });

  let postId = '';
  it('counts likes per post in every window, net of unlikes, through the outbox', async () => {
    const author = await api.newUser('lba');
    const created = await api.request<{ id: string }>('POST', '/api/posts', {
      token: author.token,
      body: { text: 'rank me' },
    });
    expect(created.status).toBe(201);
    postId = created.body.id;
    const likers = await Promise.all([1, 2, 3].map(() => api.newUser('lbl')));
    for (const liker of likers) {
      const res = await api.request('PUT', `/api/posts/${postId}/like`, { token: liker.token });
      expect(res.status).toBe(200);
    }
    const placeOf = async (window: string, want: number) =>
      waitFor(
        async () => {
          const res = await api.request<Board>(
            'GET',
            `/api/leaderboards/liked-posts?window=${window}&around=${postId}&span=0`,
          );
          return res.status === 200 && res.body.member?.score === want ? res.body : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 200, what: `the post at ${want} likes (${window})` },
      );
    for (const window of ['daily', 'weekly', 'all']) {
      const place = await placeOf(window, 3);
      expect(place.member?.postId).toBe(postId);
      expect(place.entries).toEqual([place.member]);
    }
    const unliked = await api.request('DELETE', `/api/posts/${postId}/like`, {
      token: likers[0].token,
    });
    expect(unliked.status).toBe(200);
    await placeOf('daily', 2);
    const all = await placeOf('all', 2);
    // the rank is the member's position in the top, read the same way
    const top = await board(
      `/api/leaderboards/liked-posts?limit=${Math.min(100, all.member?.rank ?? 1)}`,
    );
    expect(top.entries[(all.member?.rank ?? 1) - 1]).toEqual(all.member);
    const me = await api.request<{ code: string }>('GET', '/api/leaderboards/liked-posts/me', {
      token: author.token,
    });
    expect(me.status).toBe(400);
    expect(me.body.code).toBe('not_a_user_board');
  });

  it("rebuilds every live window's board from the view after the boards are lost", async () => {
    const [, , c] = users;
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', 'lb:*', 'COUNT', 1000);
      keys.push(...found);
      cursor = next;
    } while (cursor !== '0');
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys, DERIVED_KEYS.marker);

    const marker = await waitFor(async () => (await redis.get(DERIVED_KEYS.marker)) ?? undefined, {
      timeoutMs: 30_000,
      what: 'the derived-state marker set again by the rebuild',
    });
    expect(JSON.parse(marker)).toMatchObject({ by: 'rebuild' });
    const member = encodeMember(c.id);
    expect(Number(await redis.zscore(windowKey('posters', today), member))).toBe(1002);
    expect(Number(await redis.zscore(windowKey('posters', windowAt('all', now)), member))).toBe(
      1502,
    );
    expect(Number(await redis.zscore(windowKey('liked-posts', today), encodeMember(postId)))).toBe(
      2,
    );
    // and the API reads them from Redis again, with the same ranks
    const daily = await board('/api/leaderboards/posters?window=daily&limit=4');
    const [a, b, , d] = users;
    expect(daily.entries.map((e) => e.userId)).toEqual([d.id, a.id, b.id, c.id]);
  });
});
