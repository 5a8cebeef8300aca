import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The leaderboards' ledger: one row per counted event (`post-<id>` for a post), so a score is
 * counted exactly once whoever counts it first — the score worker, or a rebuild recounting from
 * the posts after the data Redis was lost. `leaderboard_scores` becomes the sum of the ledger,
 * kept up to date by increments made in the same transaction as the ledger row.
 *
 * Scores written before the ledger existed cannot be matched to their events, so they are
 * cleared: the next rebuild (which runs by itself, since a data Redis from before the ledger has
 * no derived-state marker) recounts them from the posts.
 */
export class CreateLeaderboardEvents1764700000000 implements MigrationInterface {
  name = 'CreateLeaderboardEvents1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE leaderboard_events (
        board      text NOT NULL,
        event_id   text NOT NULL,
        user_id    bigint NOT NULL,
        delta      bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (board, event_id)
      )`);
    await q.query(`TRUNCATE leaderboard_scores`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE leaderboard_events`);
  }
}
