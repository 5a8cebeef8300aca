import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The most-followed users, for warming the profile cache at start-up without a sort of all users. */
export class IndexUsersByFollowers1763900000000 implements MigrationInterface {
  name = 'IndexUsersByFollowers1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX users_follower_count ON users (follower_count DESC, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX users_follower_count`);
  }
}
