import { randomUUID } from 'node:crypto';
import {
  authoredKey,
  followersKey,
  followingKey,
  graphVersionKey,
  type RebuildPhase,
  type ScoreJob,
} from '@murmur/contracts';
import { LOGICAL_SHARDS, type ReplicatedCluster, type ShardRouter } from '@murmur/database';
import { throwOnPipelineError } from '@murmur/redis';
import type { Redis, Result } from 'ioredis';
import { DerivedState } from './derived-state';
import {
  countScoreEvents,
  projectFromView,
  refreshWindowScores,
  scoreJobsOfPost,
} from './leaderboard-ledger';

export interface RebuildOptions {
  main: ReplicatedCluster;
  shards: ShardRouter;
  redis: Redis;
  /** timelines and authored lists keep this many newest posts (TIMELINE_MAX) */
  timelineMax: number;
  /** rows read from Postgres per page (and so the bound on what the rebuild holds in memory) */
  batch: number;
  /** who runs it, for the lock and the progress record */
  owner?: string;
  onProgress?: (phase: RebuildPhase, done: number, total: number) => void;
  /** the bound on the materialized view's refresh (ms; 0: none) */
  viewRefreshTimeoutMs?: number;
}

const VIEW_REFRESH_TIMEOUT_MS = 120_000;

export interface RebuildResult {
  ms: number;
  /** rows or keys handled per phase */
  counts: Record<RebuildPhase, number>;
  /** phase → ms */
  phaseMs: Partial<Record<RebuildPhase, number>>;
}

export class RebuildLockHeld extends Error {
  constructor() {
    super('another rebuild holds the lock');
  }
}

const LOCK_TTL_MS = 30_000;
/**
 * The rebuild's own connection waits this long per command: a page is one pipeline of up to
 * `batch` scripts, longer than a request's data-Redis timeout allows.
 */
const COMMAND_TIMEOUT_MS = 15_000;
/**
 * Add one follower's edges of the follow graph, in both directions, except those whose pair has
 * had a follow or unfollow event applied since the loss (its version is recorded): that event is
 * newer than the row the rebuild read, and wins. One call per follower and page, not per edge.
 * KEYS[1] following(follower), KEYS[2] graph-version(follower), KEYS[3..] followers(followee);
 * ARGV[1] follower, ARGV[2..] the followee of each KEYS[3..].
 */
const REBUILD_EDGES = `
local added = 0
for i = 3, #KEYS do
  local followee = ARGV[i - 1]
  if redis.call('HEXISTS', KEYS[2], followee) == 0 then
    redis.call('SADD', KEYS[i], ARGV[1])
    redis.call('SADD', KEYS[1], followee)
    added = added + 1
  end
end
return added
`;

type EdgeRow = { follower_id: string; followee_id: string };
type AuthoredRow = { author_id: string; id: string; ms: string };

/**
 * Rebuilds the data Redis's derived state from Postgres, while the services keep serving:
 *   graph        `follows` → both follow sets (an event applied meanwhile wins over the row)
 *   authored     the post shards → each author's newest-posts list
 *   leaderboards the posts → the ledger (any post not yet counted is counted now, once), then
 *                the refreshed per-window view → the Redis boards (every window still live)
 * Timelines are not rebuilt: each reader's next read merges theirs from the graph and the
 * authored lists (timelines are materialised on read, docs/patterns/fan-out.md), so only those
 * who read pay for one.
 * Everything is read from the primaries (a replica could lack a post whose fan-out job was lost
 * with the Redis) in keyset pages of `batch` rows, so memory stays bounded whatever the size.
 * Writes only add (ZADD, SADD of what Postgres holds) and are what the live jobs would write, so
 * the rebuild and the workers may run at the same time; it removes nothing.
 */
export class Rebuilder {
  private readonly owner: string;
  private readonly options: RebuildOptions;
  private readonly state: DerivedState;

  constructor(options: RebuildOptions) {
    this.owner = options.owner ?? `rebuild-${randomUUID()}`;
    const redis = options.redis.duplicate({ commandTimeout: COMMAND_TIMEOUT_MS });
    redis.defineCommand('murmurRebuildEdges', { lua: REBUILD_EDGES });
    this.options = { ...options, redis };
    this.state = new DerivedState(redis);
  }

  /** Run every phase under the rebuild lock, then set the marker. */
  async run(): Promise<RebuildResult> {
    if (!(await this.state.lock(this.owner, LOCK_TTL_MS))) {
      this.options.redis.disconnect();
      throw new RebuildLockHeld();
    }
    const started = Date.now();
    this.startedAt = started;
    const counts: RebuildResult['counts'] = {
      graph: 0,
      authored: 0,
      leaderboards: 0,
    };
    const phaseMs: RebuildResult['phaseMs'] = {};
    try {
      const phases: Array<[RebuildPhase, () => Promise<number>]> = [
        ['graph', () => this.graph()],
        ['authored', () => this.authored()],
        ['leaderboards', () => this.leaderboards()],
      ];
      for (const [phase, run] of phases) {
        const t0 = Date.now();
        await this.report(phase, 0, 0);
        counts[phase] = await run();
        phaseMs[phase] = Date.now() - t0;
      }
      await this.state.markComplete('rebuild');
      return { ms: Date.now() - started, counts, phaseMs };
    } finally {
      await this.state.unlock(this.owner).catch(() => undefined);
      this.options.redis.disconnect();
    }
  }

  private startedAt = Date.now();

  private async report(phase: RebuildPhase, done: number, total: number): Promise<void> {
    this.options.onProgress?.(phase, done, total);
    if (!(await this.state.renew(this.owner, LOCK_TTL_MS))) {
      throw new Error('the rebuild lock was lost (expired); another rebuild may be running');
    }
    await this.state.progress(this.owner, phase, done, total, this.startedAt);
  }

  /** `follows` → `feed:followers:*` and `feed:following:*`. */
  private async graph(): Promise<number> {
    const { main, redis, batch } = this.options;
    const total = await count(main, 'SELECT count(*)::text AS n FROM follows');
    let done = 0;
    let after: EdgeRow = { follower_id: '0', followee_id: '0' };
    for (;;) {
      const rows = await main.onPrimary((sql) =>
        sql.query<EdgeRow>(
          `SELECT f.follower_id::text AS follower_id, f.followee_id::text AS followee_id
             FROM follows f
            WHERE (f.follower_id, f.followee_id) > ($1::bigint, $2::bigint)
            ORDER BY f.follower_id, f.followee_id LIMIT $3`,
          [after.follower_id, after.followee_id, batch],
        ),
      );
      if (rows.length === 0) {
        return done;
      }
      const byFollower = new Map<string, string[]>();
      for (const r of rows) {
        const list = byFollower.get(r.follower_id) ?? [];
        list.push(r.followee_id);
        byFollower.set(r.follower_id, list);
      }
      const pipeline = redis.pipeline();
      for (const [follower, followees] of byFollower) {
        pipeline.murmurRebuildEdges(
          2 + followees.length,
          followingKey(follower),
          graphVersionKey(follower),
          ...followees.map(followersKey),
          follower,
          ...followees,
        );
      }
      throwOnPipelineError(await pipeline.exec());
      done += rows.length;
      after = rows[rows.length - 1];
      await this.report('graph', done, total);
    }
  }

  /** The post shards → `feed:authored:*` (each author's newest `timelineMax` posts). */
  private async authored(): Promise<number> {
    const { shards, redis, batch, timelineMax } = this.options;
    // authors per page: each brings up to timelineMax rows, and a page holds about `batch`
    const authorsPerPage = Math.max(1, Math.floor(batch / 20));
    let done = 0;
    for (let logical = 0; logical < LOGICAL_SHARDS; logical++) {
      const target = shards.target(logical);
      let after = '0';
      for (;;) {
        const rows = await target.cluster.onPrimary((sql) =>
          sql.query<AuthoredRow>(
            `SELECT a.author_id::text AS author_id, p.id::text AS id,
                    floor(extract(epoch FROM p.created_at) * 1000)::bigint::text AS ms
               FROM (SELECT DISTINCT author_id FROM ${target.schema}.posts
                      WHERE author_id > $1::bigint ORDER BY author_id LIMIT $2) a
               CROSS JOIN LATERAL (
                 SELECT id, created_at FROM ${target.schema}.posts
                  WHERE author_id = a.author_id ORDER BY created_at DESC, id DESC LIMIT $3) p
              ORDER BY a.author_id`,
            [after, authorsPerPage, timelineMax],
          ),
        );
        if (rows.length === 0) {
          break;
        }
        const pipeline = redis.pipeline();
        let author = '';
        for (const r of rows) {
          if (r.author_id !== author && author !== '') {
            pipeline.zremrangebyrank(authoredKey(author), 0, -(timelineMax + 1));
          }
          author = r.author_id;
          pipeline.zadd(authoredKey(r.author_id), r.ms, r.id);
        }
        pipeline.zremrangebyrank(authoredKey(author), 0, -(timelineMax + 1));
        throwOnPipelineError(await pipeline.exec());
        done += rows.length;
        after = author;
      }
      await this.report('authored', logical + 1, LOGICAL_SHARDS);
    }
    return done;
  }

  /**
   * Count every post in the ledger (those already counted add nothing), then copy every
   * committed score of every live window into its Redis board.
   */
  private async leaderboards(): Promise<number> {
    const { shards, main, redis, batch } = this.options;
    for (let logical = 0; logical < LOGICAL_SHARDS; logical++) {
      const target = shards.target(logical);
      let after = '0';
      for (;;) {
        const posts = await target.cluster.onPrimary((sql) =>
          sql.query<{ id: string; author_id: string; ms: string }>(
            `SELECT p.id::text AS id, p.author_id::text AS author_id,
                    floor(extract(epoch FROM p.created_at) * 1000)::bigint::text AS ms
               FROM ${target.schema}.posts p WHERE p.id > $1::bigint ORDER BY p.id LIMIT $2`,
            [after, batch],
          ),
        );
        if (posts.length === 0) {
          break;
        }
        const byBoard = new Map<string, ScoreJob[]>();
        for (const p of posts) {
          for (const job of scoreJobsOfPost({
            postId: p.id,
            authorId: p.author_id,
            createdAt: Number(p.ms),
          })) {
            const list = byBoard.get(job.board) ?? [];
            list.push(job);
            byBoard.set(job.board, list);
          }
        }
        for (const [board, jobs] of byBoard) {
          await main.onPrimary((sql) => countScoreEvents(sql, board, jobs));
        }
        after = posts[posts.length - 1].id;
      }
      await this.report('leaderboards', logical + 1, LOGICAL_SHARDS);
    }
    // The ledger is whole: refresh the per-window view from it, then copy the view (every
    // window still live in Redis) into the boards.
    await main.primaryTransaction((sql) =>
      refreshWindowScores(sql, this.options.viewRefreshTimeoutMs ?? VIEW_REFRESH_TIMEOUT_MS),
    );
    return projectFromView((fn) => main.onPrimary(fn), redis, batch);
  }
}

async function count(db: ReplicatedCluster, text: string): Promise<number> {
  const rows = await db.onPrimary((sql) => sql.query<{ n: string }>(text));
  return Number(rows[0]?.n ?? 0);
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    murmurRebuildEdges(numKeys: number, ...keysAndArgs: string[]): Result<number, Context>;
  }
}
