import type { MigrationInterface, QueryRunner } from 'typeorm';
import { LOGICAL_SHARDS, shardSchema } from '../../post-id';

/**
 * `Idempotency-Key` of the request that created a post, unique per author: a retry with the same
 * key finds the first post instead of inserting a second, in the same transaction that would
 * have inserted it, so no crash, restart or Redis loss can let a duplicate through. A nullable
 * column without a default is a catalog-only change; the index is partial (keyless posts skip it).
 */
export class AddPostIdempotencyKeys1764600100000 implements MigrationInterface {
  name = 'AddPostIdempotencyKeys1764600100000';

  async up(q: QueryRunner): Promise<void> {
    for (let logical = 0; logical < LOGICAL_SHARDS; logical++) {
      const s = shardSchema(logical);
      await q.query(`ALTER TABLE ${s}.posts ADD COLUMN idempotency_key text`);
      await q.query(
        `CREATE UNIQUE INDEX posts_author_idempotency_key ON ${s}.posts (author_id, idempotency_key)
         WHERE idempotency_key IS NOT NULL`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (let logical = 0; logical < LOGICAL_SHARDS; logical++) {
      const s = shardSchema(logical);
      await q.query(`DROP INDEX ${s}.posts_author_idempotency_key`);
      await q.query(`ALTER TABLE ${s}.posts DROP COLUMN idempotency_key`);
    }
  }
}
