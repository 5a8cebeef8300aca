/**
 * What must hold after every fault, checked against Postgres (the source of truth) and the data
 * Redis, for everything the load was told had succeeded so far:
 *   posts      every acknowledged post is stored, once per Idempotency-Key
 *   timelines  every acknowledged post is in each of its author's stable followers' timelines
 *              (or, for a timeline not materialised, in what the follower's next read merges)
 *   follows    every acknowledged follow state is the row's, and the feed's graph copy agrees
 *   likes      every acknowledged like state is the row's; like counts equal the like rows
 *   scores     each author's score is its post count, in Postgres and on the Redis board
 * Derived state gets time to converge (queues drained, likes flushed, a rebuild finished): what
 * is still wrong after `settleMs` is lost.
 */
import {
  encodeMember,
  windowKey,
  authoredKey,
  DERIVED_KEYS,
  followersKey,
  followingKey,
  timelineKey,
} from '@murmur/contracts';
import { logicalShardForUser, logicalShardOfPostId, shardSchema } from '@murmur/database';
import type { Topology } from '@murmur/stack';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { sleep } from './client';

const POSTERS_ALL = windowKey('posters', { window: 'all', period: 'all' });
import type { Cast, Ledger } from './load';

export interface CheckResult {
  /** acknowledged writes checked */
  checked: number;
  lost: number;
  duplicated: number;
  /** one line per kind of failure, for the report */
  problems: string[];
}

type Query = <T>(text: string, params?: unknown[]) => Promise<T[]>;

/** The current primary of each cluster (found by asking every node: a failover moves it). */
async function primaries(t: Topology, user: string): Promise<Map<string, Query>> {
  const found = new Map<string, Query>();
  for (const node of t.postgres) {
    const db = node.cluster === 'main' ? t.database.name : t.database.shardDatabase;
    const client = new Client({ host: '127.0.0.1', port: node.port, user, database: db });
    try {
      await client.connect();
      const [row] = (await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows;
      await client.end();
      if (!row.r) {
        found.set(node.cluster, async <T>(text: string, params?: unknown[]) => {
          const c = new Client({ host: '127.0.0.1', port: node.port, user, database: db });
          await c.connect();
          try {
            return (await c.query(text, params)).rows as T[];
          } finally {
            await c.end();
          }
        });
      }
    } catch {
      await client.end().catch(() => undefined);
    }
  }
  return found;
}

export class Invariants {
  private readonly redis: Redis;

  constructor(
    private readonly t: Topology,
    private readonly pgUser: string,
    private readonly cast: Cast,
  ) {
    const port = t.redis.find((r) => r.purpose === 'queue')?.port;
    this.redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  }

  close(): void {
    this.redis.disconnect();
  }

  /** Wait until the derived state is complete and the likes are flushed (or `ms` passed). */
  async settle(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const [marker, dirty] = await Promise.all([
        this.redis.get(DERIVED_KEYS.marker).catch(() => null),
        this.redis.scard('likes:dirty').catch(() => 1),
      ]);
      if (marker !== null && dirty === 0) {
        return;
      }
      await sleep(250);
    }
  }

  /**
   * Check the ledger, retrying what is derived (timelines, graph copy, boards, like rows after a
   * flush) until it holds or `settleMs` passed. Stored posts and duplicates are checked once.
   */
  async check(ledger: Ledger, settleMs: number): Promise<CheckResult> {
    const deadline = Date.now() + settleMs;
    let result = await this.once(ledger);
    while (result.lost > 0 && Date.now() < deadline) {
      await sleep(500);
      result = await this.once(ledger);
    }
    return result;
  }

  private async once(ledger: Ledger): Promise<CheckResult> {
    const db = await primaries(this.t, this.pgUser);
    const main = db.get('main');
    if (!main) {
      return { checked: 0, lost: 0, duplicated: 0, problems: ['no writable main primary'] };
    }
    const shardQuery = (logical: number): Query | undefined =>
      db.get(`shard-${logical % this.t.physicalShards}`);
    const authorIds = this.cast.authors.map((a) => a.author.id);
    const problems: string[] = [];
    let lost = 0;
    let duplicated = 0;
    const fail = (what: string, n: number): void => {
      if (n > 0) {
        problems.push(`${n} ${what}`);
        lost += n;
      }
    };

    // posts: stored, and once per key
    const byShard = new Map<number, string[]>();
    for (const p of ledger.posts) {
      const logical = logicalShardOfPostId(BigInt(p.id));
      const list = byShard.get(logical) ?? [];
      list.push(p.id);
      byShard.set(logical, list);
    }
    let stored = 0;
    for (const [logical, ids] of byShard) {
      const q = shardQuery(logical);
      const rows = q
        ? await q<{ n: string }>(
            `SELECT count(*)::text AS n FROM ${shardSchema(logical)}.posts WHERE id = ANY($1::bigint[])`,
            [ids],
          )
        : [{ n: '0' }];
      stored += Number(rows[0].n);
    }
    fail('acknowledged posts not in Postgres', ledger.posts.length - stored);
    for (const logical of new Set(authorIds.map((a) => logicalShardForUser(a)))) {
      const q = shardQuery(logical);
      const dups = q
        ? await q<{ n: string }>(
            `SELECT count(*)::text AS n FROM (
               SELECT 1 FROM ${shardSchema(logical)}.posts
                WHERE author_id = ANY($1::bigint[]) AND idempotency_key IS NOT NULL
                GROUP BY author_id, idempotency_key HAVING count(*) > 1) d`,
            [authorIds],
          )
        : [{ n: '0' }];
      duplicated += Number(dups[0].n);
    }
    if (duplicated > 0) {
      problems.push(`${duplicated} idempotency keys with more than one post`);
    }

    // timelines: every acknowledged post in each stable follower's timeline, or, where that
    // timeline is not materialised (unread, or gone with the data Redis), in what its next read
    // merges: the author's list, with the author in the follower's following set
    const pipeline = this.redis.pipeline();
    let timelineChecks = 0;
    for (const p of ledger.posts) {
      const followers = this.cast.authors.find((a) => a.author.id === p.authorId)?.followers ?? [];
      for (const f of followers) {
        pipeline.exists(timelineKey(f.id));
        pipeline.zscore(timelineKey(f.id), p.id);
        pipeline.zscore(authoredKey(p.authorId), p.id);
        pipeline.sismember(followingKey(f.id), p.authorId);
        timelineChecks++;
      }
    }
    const inTimelines = (await pipeline.exec()) ?? [];
    let unreachable = 0;
    for (let i = 0; i < inTimelines.length; i += 4) {
      const [exists, inTimeline, inAuthored, following] = inTimelines
        .slice(i, i + 4)
        .map(([error, value]) => (error === null ? value : undefined));
      const present = (v: unknown): boolean => v !== null && v !== undefined;
      const reachable = exists === 1 ? present(inTimeline) : present(inAuthored) && following === 1;
      unreachable += reachable ? 0 : 1;
    }
    fail('acknowledged posts missing from a follower timeline', unreachable);

    // follows: the row, and the feed's copy of the graph
    const follows = [...ledger.follows.entries()]
      .filter(([pair]) => !ledger.inFlight.has(pair))
      .map(([, f]) => f);
    const rows = await main<{ pair: string }>(
      `SELECT follower_id::text || ':' || followee_id::text AS pair FROM follows
        WHERE follower_id = ANY($1::bigint[])`,
      [this.cast.togglers.map((u) => u.id)],
    );
    const present = new Set(rows.map((r) => r.pair));
    fail(
      'acknowledged follow states not in Postgres',
      follows.filter((f) => present.has(`${f.followerId}:${f.followeeId}`) !== f.following).length,
    );
    const graph = this.redis.pipeline();
    for (const f of follows) {
      graph.sismember(followersKey(f.followeeId), f.followerId);
    }
    const inGraph = (await graph.exec()) ?? [];
    fail(
      "acknowledged follow states not in the feed's graph copy",
      follows.filter((f, i) => (inGraph[i]?.[1] === 1) !== f.following).length,
    );

    // likes: the rows, and counts equal to the rows
    const likes = [...ledger.likes.entries()]
      .filter(([key]) => !ledger.inFlight.has(key))
      .map(([, l]) => l);
    const likedRows = new Set<string>();
    const touched = new Map<number, string[]>();
    for (const l of likes) {
      const logical = logicalShardOfPostId(BigInt(l.postId));
      const list = touched.get(logical) ?? [];
      if (!list.includes(l.postId)) {
        list.push(l.postId);
      }
      touched.set(logical, list);
    }
    let badCounts = 0;
    for (const [logical, ids] of touched) {
      const q = shardQuery(logical);
      if (!q) {
        continue;
      }
      const s = shardSchema(logical);
      const liked = await q<{ k: string }>(
        `SELECT post_id::text || ':' || user_id::text AS k FROM ${s}.post_likes
          WHERE post_id = ANY($1::bigint[])`,
        [ids],
      );
      liked.forEach((r) => likedRows.add(r.k));
      const counts = await q<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${s}.posts p
          WHERE p.id = ANY($1::bigint[])
            AND p.like_count <> (SELECT count(*) FROM ${s}.post_likes l WHERE l.post_id = p.id)`,
        [ids],
      );
      badCounts += Number(counts[0].n);
    }
    fail(
      'acknowledged like states not in Postgres',
      likes.filter((l) => likedRows.has(`${l.postId}:${l.userId}`) !== l.liked).length,
    );
    fail('posts whose like count differs from their like rows', badCounts);

    // scores: each author's post count, in Postgres and on the board
    let badScores = 0;
    for (const { author } of this.cast.authors) {
      const logical = logicalShardForUser(author.id);
      const q = shardQuery(logical);
      const posts = q
        ? Number(
            (
              await q<{ n: string }>(
                `SELECT count(*)::text AS n FROM ${shardSchema(logical)}.posts WHERE author_id = $1`,
                [author.id],
              )
            )[0].n,
          )
        : 0;
      const [row] = await main<{ score: string }>(
        `SELECT score::text AS score FROM leaderboard_scores WHERE board = 'posters' AND user_id = $1`,
        [author.id],
      );
      const board = Number((await this.redis.zscore(POSTERS_ALL, encodeMember(author.id))) ?? 0);
      if (Number(row?.score ?? 0) !== posts || board !== posts) {
        badScores++;
      }
    }
    fail('authors whose score is not their post count', badScores);

    return {
      checked:
        ledger.posts.length +
        timelineChecks +
        follows.length * 2 +
        likes.length +
        this.cast.authors.length,
      lost,
      duplicated,
      problems,
    };
  }
}
