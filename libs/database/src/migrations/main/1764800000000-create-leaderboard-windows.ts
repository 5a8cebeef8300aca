import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Leaderboards per window (daily, weekly, all-time; UTC days, ISO weeks).
 *
 * - `leaderboard_events.occurred_at`: when the event happened (a post's creation, a like's
 *   commit), which decides the day and week it counts in; rows from before keep their counting
 *   time. `user_id` is the board's member: a user, or a post on a post board.
 * - `leaderboard_scores.version`: bumped under the row's lock each time a member's score changes,
 *   so a projection into Redis can refuse one older than what the board holds (scores may fall
 *   now: an unlike).
 * - `leaderboard_window_scores`: a materialized view of every member's score per board, window
 *   and period, with the member's version. It serves past periods (whose Redis keys have expired)
 *   and is what the rebuild copies into Redis. The worker refreshes it CONCURRENTLY (readers are
 *   not blocked), which needs the unique index; the rank index serves top-N and around reads.
 */
export class CreateLeaderboardWindows1764800000000 implements MigrationInterface {
  name = 'CreateLeaderboardWindows1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE leaderboard_events ADD COLUMN occurred_at timestamptz`);
    await q.query(`UPDATE leaderboard_events SET occurred_at = created_at`);
    await q.query(`
      ALTER TABLE leaderboard_events
        ALTER COLUMN occurred_at SET NOT NULL,
        ALTER COLUMN occurred_at SET DEFAULT now()`);
    // a member's events in a window (the worker's projection), and a window's events (live reads)
    await q.query(
      `CREATE INDEX leaderboard_events_member_time
         ON leaderboard_events (board, user_id, occurred_at) INCLUDE (delta)`,
    );
    await q.query(
      `CREATE INDEX leaderboard_events_time
         ON leaderboard_events (board, occurred_at) INCLUDE (user_id, delta)`,
    );
    await q.query(`ALTER TABLE leaderboard_scores ADD COLUMN version bigint NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE MATERIALIZED VIEW leaderboard_window_scores AS
      WITH periods AS (
        SELECT e.board, w.period, w.period_start, e.user_id AS member_id, e.delta
          FROM leaderboard_events e
          CROSS JOIN LATERAL (VALUES
            ('daily', date_trunc('day', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'),
            ('weekly', date_trunc('week', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'),
            ('all', 'epoch'::timestamptz)
          ) AS w (period, period_start)
      )
      SELECT p.board, p.period, p.period_start, p.member_id,
             sum(p.delta)::bigint AS score, max(s.version)::bigint AS version
        FROM periods p
        JOIN leaderboard_scores s ON s.board = p.board AND s.user_id = p.member_id
       GROUP BY p.board, p.period, p.period_start, p.member_id
      HAVING sum(p.delta) > 0
      WITH NO DATA`);
    await q.query(
      `CREATE UNIQUE INDEX leaderboard_window_scores_key
         ON leaderboard_window_scores (board, period, period_start, member_id)`,
    );
    await q.query(
      `CREATE INDEX leaderboard_window_scores_rank
         ON leaderboard_window_scores (board, period, period_start, score DESC, member_id)`,
    );
    // populated once here: CONCURRENTLY refuses a view that has never been populated
    await q.query(`REFRESH MATERIALIZED VIEW leaderboard_window_scores`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP MATERIALIZED VIEW leaderboard_window_scores`);
    await q.query(`ALTER TABLE leaderboard_scores DROP COLUMN version`);
    await q.query(`DROP INDEX leaderboard_events_time`);
    await q.query(`DROP INDEX leaderboard_events_member_time`);
    await q.query(`ALTER TABLE leaderboard_events DROP COLUMN occurred_at`);
  }
}
