/**
 * The seeder itself, for `npm run seed` (main.ts) and for tests that need a realistic data set on
 * the test stack. It bulk-loads straight into the stores (no HTTP, one multi-row statement per
 * batch), matching what the services would have written:
 * - main Postgres: `users` (one argon2id hash shared by all seeded users, so seeding stays fast),
 *   `follows` with a power-law follower distribution and consistent follower/following counts,
 *   `leaderboard_events` (each post counted once, as its event would be) and `leaderboard_scores`
 *   for the `posters` board;
 * - post shards: posts in the author's logical shard schema, ids from that schema's `next_id()`,
 *   on the physical shard the ShardRouter picks (`logical % shards` unless SHARD_MAP);
 * - Redis: the feed's copy of the graph in both directions (`feed:followers:<id>` and
 *   `feed:following:<id>` sets), `timeline:<id>` sorted sets (post ids scored by created-at ms,
 *   capped like the fan-out), each author's `feed:authored:<id>` sorted set (the same, for fan-in
 *   at read), so either `FANOUT_ON_WRITE` mode runs on the same seed, the `lb:posters:*` sorted
 *   sets (every window), and sessions for a sample of the users (the session store's own format).
 */
import * as argon2 from 'argon2';
import { type ChainableCommander, Redis } from 'ioredis';
import { Pool } from 'pg';
import type { z } from 'zod';
import { SessionStore } from '@murmur/auth';
import {
  feedConfigSchema,
  mainDatabaseConfigSchema,
  redisConfigSchema,
  sessionConfigSchema,
  shardDatabaseConfigSchema,
} from '@murmur/config';
import { LOGICAL_SHARDS, logicalShardForUser, shardSchema, type Sql } from '@murmur/database';
import {
  countScoreEvents,
  projectFromView,
  refreshWindowScores,
  scoreJobsOfPost,
} from '@murmur/rebuild';
import { mulberry32, planSeed } from './graph';
import { Progress } from './progress';

const POSTERS_BOARD = 'posters';
const USER_BATCH = 5_000;
const FOLLOW_BATCH = 20_000;
// next_id() takes `nextval % 1024` per millisecond: a statement of at most 1,000 rows cannot wrap.
const POST_BATCH = 1_000;
const REDIS_BATCH = 2_000;
const WORDS =
  'cache replica shard feed latency redis postgres queue nginx trace follow like post timeline scale load fast slow hot cold warm edge pod node burst spike soak p95 coffee cat weekend deploy'.split(
    ' ',
  );

// The same variables, with the same validation, as the services that own the data.
export const seedTargetsSchema = mainDatabaseConfigSchema
  .pick({ DATABASE_URL: true })
  .extend(shardDatabaseConfigSchema.pick({ SHARDS: true, SHARD_MAP: true }).shape)
  .extend(redisConfigSchema.pick({ REDIS_URL: true }).shape)
  .extend(feedConfigSchema.pick({ TIMELINE_MAX: true, TIMELINE_IDLE_TTL_SECONDS: true }).shape)
  .extend(sessionConfigSchema.shape);

export type SeedTargets = z.infer<typeof seedTargetsSchema>;

export interface SeedOptions {
  users: number;
  posts: number;
  follows: number;
  days: number;
  seed: number;
  password: string;
  /** how many users get a ready session (token in the credentials file) */
  sessions: number;
  /** VACUUM ANALYZE the primaries afterwards (a bulk load leaves no statistics) */
  vacuum: boolean;
}

export interface SeededSession {
  userId: string;
  username: string;
  token: string;
}

/** What the k6 scripts read (loadtests/data/seed-credentials.json). */
export interface SeedCredentials {
  createdAt: string;
  password: string;
  users: Array<{ id: string; username: string }>;
  sessions: SeededSession[];
}

export interface SeedResult {
  credentials: SeedCredentials;
  /** human-readable summary lines */
  report: string[];
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  fn: (batch: T[]) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    await fn(items.slice(i, i + size));
  }
}

/** Run a pipeline and fail on the first command that failed (exec itself only rejects on I/O). */
async function exec(pipeline: ChainableCommander): Promise<Array<[Error | null, unknown]>> {
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error !== null);
  if (failed) {
    throw failed[0] as Error;
  }
  return results;
}

/** How long the seeder waits for the read replicas to replay what it wrote. */
const REPLICA_WAIT_MS = 120_000;

/**
 * Wait until every standby of every primary has replayed the primary's current WAL position
 * (pg_stat_replication, so the seeder needs no replica addresses); returns a summary line. A
 * standby whose position the seeding role may not see (no pg_read_all_stats) cannot be waited
 * for, and the line says so.
 */
export async function waitForReplicas(
  primaries: readonly Pool[],
  timeoutMs: number,
  log: NodeJS.WritableStream,
): Promise<string> {
  const started = Date.now();
  log.write('seed: waiting for the read replicas to replay the load … ');
  const targets = await Promise.all(
    primaries.map(async (db) => {
      const r = await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      return { db, lsn: r.rows[0].lsn };
    }),
  );
  let standbys = 0;
  let unseen = 0;
  for (;;) {
    const states = await Promise.all(
      targets.map(({ db, lsn }) =>
        db.query<{ standbys: number; behind: number; unseen: number }>(
          `SELECT count(*)::int AS standbys,
                  count(*) FILTER (WHERE replay_lsn IS NOT NULL AND replay_lsn < $1::pg_lsn)::int AS behind,
                  count(*) FILTER (WHERE replay_lsn IS NULL)::int AS unseen
           FROM pg_stat_replication`,
          [lsn],
        ),
      ),
    );
    standbys = states.reduce((n, s) => n + s.rows[0].standbys, 0);
    unseen = states.reduce((n, s) => n + s.rows[0].unseen, 0);
    const behind = states.reduce((n, s) => n + s.rows[0].behind, 0);
    if (behind === 0) {
      break;
    }
    if (Date.now() - started > timeoutMs) {
      log.write('timed out\n');
      return `${behind} of ${standbys} still replaying after ${timeoutMs / 1000} s: the first reads may miss rows`;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log.write(`${seconds} s\n`);
  if (standbys === 0) {
    return 'none streaming from these primaries';
  }
  return unseen > 0
    ? `${standbys - unseen} of ${standbys} caught up in ${seconds} s (${unseen} not visible to this role: grant pg_read_all_stats)`
    : `${standbys} caught up in ${seconds} s`;
}

/** Seed the stores `config` points at; progress goes to `log`. */
export async function seedDataSet(
  args: SeedOptions,
  config: SeedTargets,
  log: NodeJS.WriteStream = process.stderr,
): Promise<SeedResult> {
  const started = Date.now();
  const nowMs = Date.now();
  const plan = planSeed({
    users: args.users,
    posts: args.posts,
    avgFollows: args.follows,
    days: args.days,
    nowMs,
    seed: args.seed,
  });
  const mainDb = new Pool({ connectionString: config.DATABASE_URL, max: 4 });
  const shardDbs = config.SHARDS.map((s) => new Pool({ connectionString: s.primary, max: 4 }));
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 });
  const placement = (logical: number): Pool =>
    shardDbs[config.SHARD_MAP[String(logical)] ?? logical % shardDbs.length];

  try {
    // One hash for everyone: argon2id is slow on purpose, and login verifies it as usual.
    const hash = await argon2.hash(args.password, { type: argon2.argon2id });

    // Users, with their final follower/following counts already known from the plan.
    const prefix = `s${nowMs.toString(36)}_`;
    const ids: string[] = new Array<string>(args.users);
    const usernames = Array.from({ length: args.users }, (_, i) => `${prefix}${i}`);
    const usersBar = new Progress('users', args.users, log);
    const indexes = Array.from({ length: args.users }, (_, i) => i);
    await inBatches(indexes, USER_BATCH, async (batch) => {
      const rows = await mainDb.query<{ id: string; username: string }>(
        `INSERT INTO users (username, email, password_hash, display_name, follower_count, following_count)
         SELECT u, u || '@seed.murmur.test', $2::text, 'Seeded ' || u, fc, gc
         FROM unnest($1::text[], $3::int[], $4::int[]) AS t(u, fc, gc)
         RETURNING id, username`,
        [
          batch.map((i) => usernames[i]),
          hash,
          batch.map((i) => plan.followerCount[i]),
          batch.map((i) => plan.followees[i].length),
        ],
      );
      const byName = new Map(rows.rows.map((r) => [r.username, String(r.id)]));
      for (const i of batch) {
        ids[i] = byName.get(usernames[i]) as string;
      }
      usersBar.tick(batch.length);
    });
    usersBar.finish();

    // Follows: Postgres rows and the feed's Redis copy of the graph, in both directions.
    const pairs: Array<[number, number]> = [];
    const followersOf: number[][] = Array.from({ length: args.users }, () => []);
    plan.followees.forEach((list, follower) => {
      for (const followee of list) {
        pairs.push([follower, followee]);
        followersOf[followee].push(follower);
      }
    });
    const followsBar = new Progress('follows', pairs.length, log);
    await inBatches(pairs, FOLLOW_BATCH, async (batch) => {
      await mainDb.query(
        `INSERT INTO follows (follower_id, followee_id)
         SELECT * FROM unnest($1::bigint[], $2::bigint[])`,
        [batch.map(([a]) => ids[a]), batch.map(([, b]) => ids[b])],
      );
      followsBar.tick(batch.length);
    });
    const followed = indexes.filter((i) => followersOf[i].length > 0);
    await inBatches(followed, 200, async (batch) => {
      const pipeline = redis.pipeline();
      for (const i of batch) {
        pipeline.sadd(`feed:followers:${ids[i]}`, ...followersOf[i].map((f) => ids[f]));
      }
      await exec(pipeline);
    });
    const following = indexes.filter((i) => plan.followees[i].length > 0);
    await inBatches(following, 200, async (batch) => {
      const pipeline = redis.pipeline();
      for (const i of batch) {
        pipeline.sadd(`feed:following:${ids[i]}`, ...Array.from(plan.followees[i], (f) => ids[f]));
      }
      await exec(pipeline);
    });
    followsBar.finish();

    // Posts, per logical shard, in time order so ids grow with created_at.
    const byShard = new Map<number, number[]>();
    for (let p = 0; p < args.posts; p++) {
      const logical = logicalShardForUser(ids[plan.postAuthor[p]]);
      const list = byShard.get(logical) ?? [];
      list.push(p);
      byShard.set(logical, list);
    }
    const postIds: string[] = new Array<string>(args.posts);
    const draw = Math.random;
    const text = (): string =>
      Array.from(
        { length: 4 + Math.floor(draw() * 12) },
        () => WORDS[Math.floor(draw() * WORDS.length)],
      ).join(' ');
    const postsBar = new Progress('posts', args.posts, log);
    const shardJobs = [...byShard.entries()].map(async ([logical, posts]) => {
      const pool = placement(logical);
      const s = shardSchema(logical);
      await inBatches(posts, POST_BATCH, async (batch) => {
        // Ids first, from the schema's own next_id(), then one multi-row insert with them: each
        // post keeps its id without relying on RETURNING order.
        const fresh = await pool.query<{ id: string }>(
          `SELECT id::text AS id FROM (SELECT ${s}.next_id() AS id FROM generate_series(1, $1::int)) x ORDER BY x.id`,
          [batch.length],
        );
        batch.forEach((p, k) => {
          postIds[p] = fresh.rows[k].id;
        });
        await pool.query(
          `INSERT INTO ${s}.posts (id, author_id, text, created_at)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[])`,
          [
            batch.map((p) => postIds[p]),
            batch.map((p) => ids[plan.postAuthor[p]]),
            batch.map(() => text()),
            batch.map((p) => new Date(plan.postCreatedMs[p]).toISOString()),
          ],
        );
        postsBar.tick(batch.length);
      });
    });
    await Promise.all(shardJobs);
    postsBar.finish();

    // Timelines: what fan-out on write would have built (author + every follower), capped, as if
    // every user had just read their feed (each expires after TIMELINE_IDLE_TTL_SECONDS unread);
    // and each author's own list, which the worker keeps in both modes and fan-in reads.
    const timelines: Array<Array<[number, string]>> = Array.from({ length: args.users }, () => []);
    const authored: Array<Array<[number, string]>> = Array.from({ length: args.users }, () => []);
    const postCounts = new Uint32Array(args.users);
    for (let p = 0; p < args.posts; p++) {
      const id = postIds[p];
      if (id === undefined) {
        continue;
      }
      const author = plan.postAuthor[p];
      postCounts[author]++;
      const entry: [number, string] = [plan.postCreatedMs[p], id];
      timelines[author].push(entry);
      authored[author].push(entry);
      for (const f of followersOf[author]) {
        timelines[f].push(entry);
      }
    }
    const timelineBar = new Progress('timelines', args.users, log);
    let timelineEntries = 0;
    await inBatches(indexes, REDIS_BATCH / 10, async (batch) => {
      const pipeline = redis.pipeline();
      for (const u of batch) {
        const top = timelines[u].sort((a, b) => b[0] - a[0]).slice(0, config.TIMELINE_MAX);
        if (top.length === 0) {
          continue;
        }
        timelineEntries += top.length;
        const key = `timeline:${ids[u]}`;
        pipeline.zadd(key, ...top.flatMap(([score, id]) => [score, id]));
        pipeline.zremrangebyrank(key, 0, -(config.TIMELINE_MAX + 1));
        if (config.TIMELINE_IDLE_TTL_SECONDS > 0) {
          pipeline.expire(key, config.TIMELINE_IDLE_TTL_SECONDS);
        }
      }
      await exec(pipeline);
      timelineBar.tick(batch.length);
    });
    timelineBar.finish();

    const authors = indexes.filter((u) => authored[u].length > 0);
    const authoredBar = new Progress('authored lists', authors.length, log);
    let authoredEntries = 0;
    await inBatches(authors, REDIS_BATCH / 10, async (batch) => {
      const pipeline = redis.pipeline();
      for (const u of batch) {
        const top = authored[u].sort((a, b) => b[0] - a[0]).slice(0, config.TIMELINE_MAX);
        authoredEntries += top.length;
        const key = `feed:authored:${ids[u]}`;
        pipeline.zadd(key, ...top.flatMap(([score, id]) => [score, id]));
        pipeline.zremrangebyrank(key, 0, -(config.TIMELINE_MAX + 1));
      }
      await exec(pipeline);
      authoredBar.tick(batch.length);
    });
    authoredBar.finish();

    // The boards: every post counted once in the ledger, as its event would be (so a rebuild
    // that counts the same posts again adds nothing); Redis shows the committed scores.
    const ledger: Sql = {
      query: async <T>(text: string, params?: readonly unknown[]) =>
        (await mainDb.query(text, params ? [...params] : undefined)).rows as T[],
    };
    const posters = indexes.filter((u) => postCounts[u] > 0);
    const seededPosts = Array.from({ length: args.posts }, (_, p) => p);
    await inBatches(seededPosts, POST_BATCH, async (batch) => {
      const jobs = batch.flatMap((p) =>
        postIds[p] === undefined
          ? []
          : scoreJobsOfPost({
              postId: postIds[p],
              authorId: ids[plan.postAuthor[p]],
              createdAt: plan.postCreatedMs[p],
            }),
      );
      const boards = new Map<string, typeof jobs>();
      for (const job of jobs) {
        const list = boards.get(job.board) ?? [];
        list.push(job);
        boards.set(job.board, list);
      }
      for (const [board, boardJobs] of boards) {
        await countScoreEvents(ledger, board, boardJobs);
      }
    });
    // Every window's boards from the ledger, the way a rebuild makes them: refresh the
    // per-window view, then copy it (each window still live) into Redis.
    const viewClient = await mainDb.connect();
    try {
      const inTransaction: Sql = {
        query: async <T>(text: string, params?: readonly unknown[]) =>
          (await viewClient.query(text, params ? [...params] : undefined)).rows as T[],
      };
      await viewClient.query('BEGIN');
      await refreshWindowScores(inTransaction, 0);
      await viewClient.query('COMMIT');
    } finally {
      viewClient.release();
    }
    await projectFromView((fn) => fn(ledger), redis, REDIS_BATCH);

    // A bulk load leaves the planner without statistics and every page to be vacuumed: do it now,
    // or autovacuum does it during the first load test and skews its figures.
    if (args.vacuum) {
      const vacuumStarted = Date.now();
      log.write('seed: VACUUM ANALYZE on the primaries … ');
      await Promise.all([mainDb, ...shardDbs].map((db) => db.query('VACUUM (ANALYZE)')));
      log.write(`${((Date.now() - vacuumStarted) / 1000).toFixed(1)} s\n`);
    }

    // The services read from replicas: wait for them to replay the load, or the first reads
    // (the warm-up, a load test's setup) get 404s that the negative cache then keeps for seconds.
    const replicas = await waitForReplicas([mainDb, ...shardDbs], REPLICA_WAIT_MS, log);

    // Sessions for a sample of the users, minted with the session store the services use, so a
    // load test starts without logging anyone in (the log-in limit is per IP, 30 per 5 min).
    const store = new SessionStore(redis, config);
    const random = mulberry32(args.seed ^ 0x5e55);
    const sampled = [...indexes];
    for (let i = sampled.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [sampled[i], sampled[j]] = [sampled[j], sampled[i]];
    }
    const sessions: SeededSession[] = [];
    await inBatches(sampled.slice(0, Math.min(args.sessions, args.users)), 200, async (batch) => {
      const minted = await Promise.all(batch.map((i) => store.create(ids[i])));
      batch.forEach((i, k) => {
        sessions.push({ userId: ids[i], username: usernames[i], token: minted[k].token });
      });
    });

    const sorted = [...plan.followerCount].sort((a, b) => b - a);
    const seconds = (Date.now() - started) / 1000;
    const inserted = postIds.filter((id) => id !== undefined).length;
    const report = [
      `seed: done in ${seconds.toFixed(1)} s (seed ${args.seed})`,
      `  users      ${args.users} (prefix ${prefix}, password "${args.password}")`,
      `  follows    ${pairs.length} (followers: max ${sorted[0]}, p99 ${sorted[Math.floor(sorted.length * 0.01)]}, median ${sorted[Math.floor(sorted.length / 2)]})`,
      `  posts      ${inserted} on ${byShard.size} of ${LOGICAL_SHARDS} logical shards, ${shardDbs.length} physical`,
      `  timelines  ${timelineEntries} entries (cap ${config.TIMELINE_MAX})`,
      `  fan-in     ${following.length} following sets, ${authoredEntries} entries in ${authors.length} authored lists (cap ${config.TIMELINE_MAX})`,
      `  posters    ${posters.length} users on lb:${POSTERS_BOARD}:*`,
      `  sessions   ${sessions.length} (tokens in the credentials file)`,
      `  replicas   ${replicas}`,
      `  rows/s     ${Math.round((args.users + pairs.length + inserted) / seconds)}`,
    ];
    return {
      credentials: {
        createdAt: new Date(nowMs).toISOString(),
        password: args.password,
        users: indexes.map((i) => ({ id: ids[i], username: usernames[i] })),
        sessions,
      },
      report,
    };
  } finally {
    await Promise.all([mainDb.end(), ...shardDbs.map((p) => p.end())]);
    redis.disconnect();
  }
}
