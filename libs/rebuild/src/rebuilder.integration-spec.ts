import {
  authoredKey,
  encodeMember,
  windowKey,
  DERIVED_KEYS,
  followersKey,
  followingKey,
  graphVersionKey,
  timelineKey,
} from '@murmur/contracts';
import {
  createDataSource,
  logicalShardForUser,
  MAIN_MIGRATIONS,
  ReplicatedCluster,
  SHARD_MIGRATIONS,
  ShardRouter,
  shardSchema,
} from '@murmur/database';
import { superuser, testTopology, withPostgres } from '@murmur/testing';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { DerivedState } from './derived-state';
import { countScoreEvents } from './leaderboard-ledger';
import { RebuildLockHeld, Rebuilder } from './rebuilder';

const TIMELINE_MAX = 10;
/** a Redis database of the test stack's data Redis that no service uses */
const REDIS_DB = 7;

/**
 * The rebuild against real stores: scratch databases (main + one post shard) on the test stack's
 * main primary, and a spare database of its data Redis. It must restore exactly what Postgres
 * holds, in pages, and never undo what live events applied meanwhile.
 */
describe(`${Rebuilder.name} (real Postgres and Redis)`, () => {
  const t = testTopology();
  const primary = t.postgres.find((n) => n.cluster === 'main' && n.role === 'primary');
  const names = { main: `rebuild_main_${process.pid}`, shard: `rebuild_shard_${process.pid}` };
  const url = (db: string) => `postgres://${superuser()}@127.0.0.1:${primary?.port}/${db}`;
  const redis = new Redis({
    port: t.redis.find((r) => r.purpose === 'queue')?.port,
    host: '127.0.0.1',
    db: REDIS_DB,
  });
  let mainDs: DataSource;
  let shardDs: DataSource;
  let main: ReplicatedCluster;
  let shards: ShardRouter;
  let users: string[] = [];
  /** author → post ids, newest first */
  const postsOf = new Map<string, string[]>();

  const rebuilder = (batch = 7) =>
    new Rebuilder({ main, shards, redis, timelineMax: TIMELINE_MAX, batch });

  beforeAll(async () => {
    for (const db of Object.values(names)) {
      await withPostgres(primary?.name ?? '', 'postgres', (c) => c.query(`CREATE DATABASE ${db}`));
    }
    mainDs = createDataSource({
      url: url(names.main),
      name: 'rebuild-main',
      poolSize: 4,
      migrations: MAIN_MIGRATIONS,
    });
    shardDs = createDataSource({
      url: url(names.shard),
      name: 'rebuild-shard',
      poolSize: 4,
      migrations: SHARD_MIGRATIONS,
    });
    await Promise.all([mainDs.initialize(), shardDs.initialize()]);
    await mainDs.runMigrations({ transaction: 'each' });
    await shardDs.runMigrations({ transaction: 'all' });
    main = new ReplicatedCluster('main', mainDs, [], { replicasEnabled: false, pollMs: 100 });
    const shard = new ReplicatedCluster('shard-0', shardDs, [], {
      replicasEnabled: false,
      pollMs: 100,
    });
    shards = new ShardRouter([shard]);

    // 12 users; user i follows users i+1 … i+3 (mod 12); user i wrote 2i posts, one a minute.
    const rows = await mainDs.query<Array<{ id: string }>>(
      `INSERT INTO users (username, email, password_hash)
       SELECT 'u' || g, 'u' || g || '@x.test', 'x' FROM generate_series(1, 12) g
       RETURNING id::text AS id`,
    );
    users = rows.map((r) => r.id);
    const pairs = users.flatMap((u, i) => [1, 2, 3].map((d) => [u, users[(i + d) % 12]]));
    await mainDs.query(
      `INSERT INTO follows (follower_id, followee_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
    const base = Date.UTC(2026, 0, 1);
    for (const [i, author] of users.entries()) {
      const schema = shardSchema(logicalShardForUser(author));
      const ids: string[] = [];
      for (let k = 0; k < 2 * i; k++) {
        const ms = base + (i * 100 + k) * 60_000;
        const [row] = await shardDs.query<Array<{ id: string }>>(
          `INSERT INTO ${schema}.posts (author_id, text, created_at) VALUES ($1, 'p', $2)
           RETURNING id::text AS id`,
          [author, new Date(ms).toISOString()],
        );
        ids.unshift(row.id);
      }
      postsOf.set(author, ids);
    }
  });

  afterAll(async () => {
    await redis.flushdb();
    redis.disconnect();
    await Promise.all([mainDs.destroy(), shardDs.destroy()]);
    for (const db of Object.values(names)) {
      await withPostgres(primary?.name ?? '', 'postgres', (c) =>
        c.query(`DROP DATABASE ${db} WITH (FORCE)`),
      );
    }
  });

  beforeEach(async () => {
    await redis.flushdb();
    await mainDs.query('TRUNCATE leaderboard_events, leaderboard_scores');
  });

  const allTime = windowKey('posters', { window: 'all', period: 'all' });
  const followeesOf = (i: number) => [1, 2, 3].map((d) => users[(i + d) % 12]);

  it('restores the graph, the authored lists and the boards, page by page, and no timeline', async () => {
    const result = await rebuilder().run();
    expect(result.counts.graph).toBe(36);

    for (const [i, user] of users.entries()) {
      expect((await redis.smembers(followingKey(user))).sort()).toEqual(followeesOf(i).sort());
      const followers = users.filter((_, j) => followeesOf(j).includes(user));
      expect((await redis.smembers(followersKey(user))).sort()).toEqual(followers.sort());
      // newest first, capped at TIMELINE_MAX
      const own = postsOf.get(user) ?? [];
      expect(await redis.zrange(authoredKey(user), 0, -1, 'REV')).toEqual(
        own.slice(0, TIMELINE_MAX),
      );
      // timelines are materialised on their reader's next read (the feed's own tests)
      expect(await redis.exists(timelineKey(user))).toBe(0);
      const score = await redis.zscore(allTime, encodeMember(user));
      expect(score === null ? 0 : Number(score)).toBe(own.length);
    }
    expect(JSON.parse((await redis.get(DERIVED_KEYS.marker)) ?? '{}')).toMatchObject({
      by: 'rebuild',
    });
  });

  it('does not undo a follow change applied after the loss (the event is newer than the row)', async () => {
    const [a, b] = [users[0], users[1]]; // a follows b in Postgres
    // An unfollow event was applied after the loss, before the rebuild read the row.
    await redis.hset(graphVersionKey(a), b, '42');
    await rebuilder().run();
    expect(await redis.sismember(followingKey(a), b)).toBe(0);
    expect(await redis.sismember(followersKey(b), a)).toBe(0);
    expect(await redis.sismember(followingKey(a), users[2])).toBe(1);
  });

  it('counts every post once, whoever counted some of them first', async () => {
    const author = users[5]; // 10 posts
    const ids = postsOf.get(author) ?? [];
    // The score worker had counted 4 of them before the loss.
    await main.onPrimary((sql) =>
      countScoreEvents(
        sql,
        'posters',
        ids.slice(0, 4).map((id) => ({ eventId: `post-${id}`, userId: author, delta: 1 })),
      ),
    );
    await rebuilder().run();
    await rebuilder().run(); // and a second rebuild counts nothing again
    expect(Number(await redis.zscore(allTime, encodeMember(author)))).toBe(10);
    const [row] = await mainDs.query<Array<{ score: string }>>(
      `SELECT score::text AS score FROM leaderboard_scores WHERE user_id = $1`,
      [author],
    );
    expect(row.score).toBe('10');
  });

  it('lets one rebuild run at a time', async () => {
    const outcomes = await Promise.allSettled([rebuilder().run(), rebuilder().run()]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === 'rejected');
    expect(refused?.reason).toBeInstanceOf(RebuildLockHeld);
    expect(await new DerivedState(redis).marker()).toMatchObject({ by: 'rebuild' });
  });
});
