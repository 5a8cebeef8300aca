import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUsersAndFollows1763856000000 implements MigrationInterface {
  name = 'CreateUsersAndFollows1763856000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        username        text NOT NULL,
        email           text NOT NULL,
        password_hash   text NOT NULL,
        display_name    text NOT NULL DEFAULT '',
        bio             text NOT NULL DEFAULT '',
        follower_count  integer NOT NULL DEFAULT 0,
        following_count integer NOT NULL DEFAULT 0,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    // Case-insensitive uniqueness without the citext extension.
    await q.query(`CREATE UNIQUE INDEX users_username_lower ON users (lower(username))`);
    await q.query(`CREATE UNIQUE INDEX users_email_lower ON users (lower(email))`);
    await q.query(`
      CREATE TABLE follows (
        follower_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        followee_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (follower_id, followee_id),
        CHECK (follower_id <> followee_id)
      )`);
    await q.query(`CREATE INDEX follows_followee ON follows (followee_id, follower_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE follows`);
    await q.query(`DROP TABLE users`);
  }
}
