import type { MigrationInterface, QueryRunner } from 'typeorm';
import { LOGICAL_SHARDS, shardSchema } from '../../post-id';

/**
 * Who likes which post, next to the post on its logical shard: a like is written with its post,
 * and a post's `like_count` is recounted from these rows, so flushing a batch twice cannot count
 * a like twice.
 */
export class CreatePostLikes1763900000000 implements MigrationInterface {
  name = 'CreatePostLikes1763900000000';

  async up(q: QueryRunner): Promise<void> {
    for (let logical = 0; logical < LOGICAL_SHARDS; logical++) {
      const s = shardSchema(logical);
      await q.query(`
        CREATE TABLE ${s}.post_likes (
          post_id    bigint NOT NULL REFERENCES ${s}.posts (id) ON DELETE CASCADE,
          user_id    bigint NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (post_id, user_id)
        )`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (let logical = 0; logical < LOGICAL_SHARDS; logical++) {
      await q.query(`DROP TABLE ${shardSchema(logical)}.post_likes`);
    }
  }
}
