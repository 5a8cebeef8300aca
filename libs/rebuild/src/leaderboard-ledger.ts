import {
  encodeMember,
  EVENTS,
  type EventPayloads,
  jobsForEvent,
  LEADERBOARD_JOBS,
  QUEUES,
  type ScoreJob,
  windowAt,
  windowExpiresAt,
  type WindowPeriod,
  windowKey,
  windowsAt,
  windowVersionKey,
} from '@murmur/contracts';
import type { Sql } from '@murmur/database';
import { throwOnPipelineError } from '@murmur/redis';
import type { Redis, Result } from 'ioredis';

export interface BoardScore {
  userId: string;
  score: number;
}

/** A member's committed all-time score and the version of its state (see the migration). */
export interface CountedScore extends BoardScore {
  version: number;
}

/** A member's score in one window, as of `version`: what a board key should hold. */
export interface WindowScore {
  period: WindowPeriod;
  score: number;
}

type CountableEvent = Pick<ScoreJob, 'eventId' | 'userId' | 'delta' | 'at'>;

/**
 * Count score events exactly once, in Postgres: each event's ledger row and the increment of
 * its member's score happen in one statement, and an event already in `leaderboard_events` adds
 * nothing. Whoever counts an event first wins — the score worker, or a rebuild recounting from
 * the posts — and the other finds the row. Each changed member's version goes up by one under
 * its row lock, so versions follow commit order per member. Returns every changed member's new
 * score and version. Increments commute, so concurrent counters never lose one another's points.
 * `nowMs` dates events that carry no time of their own.
 */
export async function countScoreEvents(
  sql: Sql,
  board: string,
  events: readonly CountableEvent[],
  nowMs: number = Date.now(),
): Promise<CountedScore[]> {
  if (events.length === 0) {
    return [];
  }
  const rows = await sql.query<{ user_id: string; score: string; version: string }>(
    `WITH counted AS (
       INSERT INTO leaderboard_events (board, event_id, user_id, delta, occurred_at)
       SELECT $1, e.event_id, e.user_id, e.delta, e.occurred_at
         FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::timestamptz[])
           AS e (event_id, user_id, delta, occurred_at)
       ON CONFLICT DO NOTHING
       RETURNING user_id, delta
     ), per_user AS (
       SELECT user_id, sum(delta)::bigint AS delta FROM counted GROUP BY user_id ORDER BY user_id
     )
     INSERT INTO leaderboard_scores AS s (board, user_id, score, version)
     SELECT $1, user_id, delta, 1 FROM per_user
     ON CONFLICT (board, user_id) DO UPDATE
       SET score = s.score + EXCLUDED.score, version = s.version + 1, updated_at = now()
     RETURNING user_id::text AS user_id, score::text AS score, version::text AS version`,
    [
      board,
      events.map((e) => e.eventId),
      events.map((e) => e.userId),
      events.map((e) => e.delta),
      events.map((e) => new Date(e.at ?? nowMs).toISOString()),
    ],
  );
  return rows.map((r) => ({
    userId: r.user_id,
    score: Number(r.score),
    version: Number(r.version),
  }));
}

/**
 * A member's score in every window that holds the instant `at`, and its version. Run it in the
 * transaction that counted the event, after the count: the count holds the member's row lock, so
 * every event of the member committed before is seen, and the version names exactly this state.
 * Undefined when the board has no score for the member.
 */
export async function readWindowScores(
  sql: Sql,
  board: string,
  memberId: string,
  at: number,
): Promise<{ version: number; windows: WindowScore[] } | undefined> {
  const [daily, weekly, all] = windowsAt(at);
  const rows = await sql.query<{ score: string; version: string; daily: string; weekly: string }>(
    `SELECT s.score::text AS score, s.version::text AS version,
            (SELECT coalesce(sum(e.delta), 0) FROM leaderboard_events e
              WHERE e.board = $1 AND e.user_id = $2
                AND e.occurred_at >= $3::timestamptz AND e.occurred_at < $4::timestamptz)::text
              AS daily,
            (SELECT coalesce(sum(e.delta), 0) FROM leaderboard_events e
              WHERE e.board = $1 AND e.user_id = $2
                AND e.occurred_at >= $5::timestamptz AND e.occurred_at < $6::timestamptz)::text
              AS weekly
       FROM leaderboard_scores s WHERE s.board = $1 AND s.user_id = $2`,
    [board, memberId, iso(daily.startMs), iso(daily.endMs), iso(weekly.startMs), iso(weekly.endMs)],
  );
  const row = rows[0];
  if (!row) {
    return undefined;
  }
  return {
    version: Number(row.version),
    windows: [
      { period: daily, score: Number(row.daily) },
      { period: weekly, score: Number(row.weekly) },
      { period: all, score: Number(row.score) },
    ],
  };
}

const iso = (ms: number | undefined): string => new Date(ms ?? 0).toISOString();

/**
 * Set one member's score in several window keys, each only if `version` is newer than the one
 * that key holds for the member: two workers whose writes arrive out of order, or a rebuild
 * copying a state a worker has since moved past, never put an older score back (scores may fall:
 * an unlike). A score of 0 or less takes the member off the board. Windowed keys (and their
 * version hashes) expire a little after their window ends; a late write past that expires them
 * at once. KEYS: board key, version key, per window. ARGV: member, version, then per window its
 * score and expiry (epoch ms, 0 for none).
 */
const PROJECT = `
local member, version = ARGV[1], tonumber(ARGV[2])
local applied = 0
for i = 1, #KEYS, 2 do
  local score, expireAt = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local current = tonumber(redis.call('HGET', KEYS[i + 1], member) or '-1')
  if version > current then
    if score > 0 then
      redis.call('ZADD', KEYS[i], score, member)
    else
      redis.call('ZREM', KEYS[i], member)
    end
    redis.call('HSET', KEYS[i + 1], member, ARGV[2])
    if expireAt > 0 then
      redis.call('PEXPIREAT', KEYS[i], expireAt)
      redis.call('PEXPIREAT', KEYS[i + 1], expireAt)
    end
    applied = applied + 1
  end
end
return applied
`;

const defined = new WeakSet<Redis>();
function defineProject(redis: Redis): void {
  if (!defined.has(redis)) {
    redis.defineCommand('murmurProjectScores', { lua: PROJECT });
    defined.add(redis);
  }
}

function projectArgs(
  board: string,
  memberId: string,
  version: number,
  windows: readonly WindowScore[],
): string[] {
  const keys = windows.flatMap((w) => [
    windowKey(board, w.period),
    windowVersionKey(board, w.period),
  ]);
  const args = windows.flatMap((w) => [String(w.score), String(windowExpiresAt(w.period) ?? 0)]);
  return [...keys, encodeMember(memberId), String(version), ...args];
}

/** Show one member's committed window scores on the Redis boards (version-guarded). */
export async function projectWindowScores(
  redis: Redis,
  board: string,
  memberId: string,
  version: number,
  windows: readonly WindowScore[],
): Promise<number> {
  defineProject(redis);
  return redis.murmurProjectScores(
    windows.length * 2,
    ...projectArgs(board, memberId, version, windows),
  );
}

/** A page of the materialized view, as the rebuild and the seed copy it. */
interface ViewRow {
  board: string;
  period: 'daily' | 'weekly' | 'all';
  start_ms: string;
  member_id: string;
  score: string;
  version: string;
}

/**
 * Refresh the per-window view without blocking its readers (CONCURRENTLY: the new contents are
 * computed beside the old, then the difference applied). The statement gives up after
 * `timeoutMs` (0: no limit) rather than hold a connection and a lock for ever. `sql` must be a
 * transaction: the timeout is set for it alone.
 */
export async function refreshWindowScores(sql: Sql, timeoutMs: number): Promise<void> {
  await sql.query(`SELECT set_config('statement_timeout', $1, true)`, [String(timeoutMs)]);
  await sql.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY leaderboard_window_scores`);
  // fresh row counts for the planner: autovacuum may take a while to notice a refreshed view
  await sql.query(`ANALYZE leaderboard_window_scores`);
}

/**
 * Copy the view into the Redis boards, in keyset pages of `batch` rows: every all-time score and
 * every windowed score whose key has not expired yet (older periods are read from the view).
 * Version-guarded, so it may run while the workers project newer states. `run` opens a
 * connection per page (the primary: the view is refreshed there just before). Returns the rows.
 */
export async function projectFromView(
  run: <T>(fn: (sql: Sql) => Promise<T>) => Promise<T>,
  redis: Redis,
  batch: number,
  nowMs: number = Date.now(),
): Promise<number> {
  defineProject(redis);
  // A weekly key lives at most a week and the grace: older periods are never copied.
  const since = new Date(nowMs - 8 * 86_400_000).toISOString();
  let copied = 0;
  let cursor = { board: '', period: '', start: new Date(0).toISOString(), member: '0' };
  for (;;) {
    const rows = await run((sql) =>
      sql.query<ViewRow>(
        `SELECT v.board, v.period, (extract(epoch FROM v.period_start) * 1000)::bigint::text
                AS start_ms, v.member_id::text AS member_id, v.score::text AS score,
                v.version::text AS version
           FROM leaderboard_window_scores v
          WHERE (v.board, v.period, v.period_start, v.member_id)
                > ($1, $2, $3::timestamptz, $4::bigint)
            AND (v.period = 'all' OR v.period_start >= $5::timestamptz)
          ORDER BY v.board, v.period, v.period_start, v.member_id LIMIT $6`,
        [cursor.board, cursor.period, cursor.start, cursor.member, since, batch],
      ),
    );
    if (rows.length === 0) {
      return copied;
    }
    const pipeline = redis.pipeline();
    for (const r of rows) {
      const period = windowAt(r.period, Number(r.start_ms));
      if ((windowExpiresAt(period) ?? Infinity) <= nowMs) {
        continue;
      }
      pipeline.murmurProjectScores(
        2,
        ...projectArgs(r.board, r.member_id, Number(r.version), [
          { period, score: Number(r.score) },
        ]),
      );
    }
    throwOnPipelineError(await pipeline.exec());
    copied += rows.length;
    const last = rows[rows.length - 1];
    cursor = {
      board: last.board,
      period: last.period,
      start: new Date(Number(last.start_ms)).toISOString(),
      member: last.member_id,
    };
  }
}

/**
 * The score jobs a post's creation makes, from the same contract the outbox relay follows: a
 * rebuild or a seed counts a post exactly as its event would have been counted.
 */
export function scoreJobsOfPost(post: EventPayloads[typeof EVENTS.postCreated]): ScoreJob[] {
  const jobs = jobsForEvent({
    id: `post-${post.postId}`,
    source: 'rebuild',
    seq: '0',
    name: EVENTS.postCreated,
    payload: post,
  });
  return jobs.flatMap((j) =>
    j.queue === QUEUES.leaderboard && j.name === LEADERBOARD_JOBS.score ? [j.data] : [],
  );
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    murmurProjectScores(numKeys: number, ...keysAndArgs: string[]): Result<number, Context>;
  }
}
