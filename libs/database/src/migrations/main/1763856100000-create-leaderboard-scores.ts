import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Durable copy of leaderboard scores; Redis sorted sets are the serving copy. */
export class CreateLeaderboardScores1763856100000 implements MigrationInterface {
  name = 'CreateLeaderboardScores1763856100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE leaderboard_scores (
        board      text NOT NULL,
        user_id    bigint NOT NULL,
        score      bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (board, user_id)
      )`);
    await q.query(`CREATE INDEX leaderboard_scores_rank ON leaderboard_scores (board, score DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE leaderboard_scores`);
  }
}
