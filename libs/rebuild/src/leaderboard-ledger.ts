import {
  boardKey,
  EVENTS,
  type EventPayloads,
  jobsForEvent,
  LEADERBOARD_JOBS,
  QUEUES,
  type ScoreJob,
} from '@murmur/contracts';
import type { Sql } from '@murmur/database';
import type { Redis } from 'ioredis';

export interface BoardScore {
  userId: string;
  score: number;
}

/**
 * Count score events exactly once, in Postgres: each event's ledger row and the increment of
 * its user's score happen in one statement, and an event already in `leaderboard_events` adds
 * nothing. Whoever counts an event first wins — the score worker, or a rebuild recounting from
 * the posts — and the other finds the row. Returns the new absolute score of every user whose
 * score changed. Increments commute, so concurrent counters never lose one another's points.
 */
export async function countScoreEvents(
  sql: Sql,
  board: string,
  events: ReadonlyArray<Pick<ScoreJob, 'eventId' | 'userId' | 'delta'>>,
): Promise<BoardScore[]> {
  if (events.length === 0) {
    return [];
  }
  const rows = await sql.query<{ user_id: string; score: string }>(
    `WITH counted AS (
       INSERT INTO leaderboard_events (board, event_id, user_id, delta)
       SELECT $1, e.event_id, e.user_id, e.delta
         FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS e (event_id, user_id, delta)
       ON CONFLICT DO NOTHING
       RETURNING user_id, delta
     ), per_user AS (
       SELECT user_id, sum(delta)::bigint AS delta FROM counted GROUP BY user_id ORDER BY user_id
     )
     INSERT INTO leaderboard_scores AS s (board, user_id, score)
     SELECT $1, user_id, delta FROM per_user
     ON CONFLICT (board, user_id) DO UPDATE
       SET score = s.score + EXCLUDED.score, updated_at = now()
     RETURNING user_id::text AS user_id, score::text AS score`,
    [board, events.map((e) => e.eventId), events.map((e) => e.userId), events.map((e) => e.delta)],
  );
  return rows.map((r) => ({ userId: r.user_id, score: Number(r.score) }));
}

/** A user's committed score on a board (0 when the board has none for them). */
export async function readScore(sql: Sql, board: string, userId: string): Promise<number> {
  const rows = await sql.query<{ score: string }>(
    `SELECT score::text AS score FROM leaderboard_scores WHERE board = $1 AND user_id = $2`,
    [board, userId],
  );
  return rows.length === 0 ? 0 : Number(rows[0].score);
}

/** The top of a board from Postgres: what a reader gets while the Redis board is rebuilt. */
export async function readTop(sql: Sql, board: string, limit: number): Promise<BoardScore[]> {
  const rows = await sql.query<{ user_id: string; score: string }>(
    `SELECT s.user_id::text AS user_id, s.score::text AS score FROM leaderboard_scores s
      WHERE s.board = $1 ORDER BY s.score DESC, s.user_id DESC LIMIT $2`,
    [board, limit],
  );
  return rows.map((r) => ({ userId: r.user_id, score: Number(r.score) }));
}

/**
 * Copy committed scores into the Redis board. `ZADD GT`: a score only ever replaces a lower one,
 * so two workers whose writes arrive out of order, or a rebuild copying a row that a worker has
 * since raised, never lower a board. (The boards here only grow; a board whose scores may fall
 * would need a version per entry instead.)
 */
export async function projectScores(
  redis: Redis,
  board: string,
  scores: readonly BoardScore[],
): Promise<void> {
  if (scores.length === 0) {
    return;
  }
  const args = scores.flatMap((s) => [String(s.score), s.userId]);
  await redis.zadd(boardKey(board), 'GT', ...args);
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
