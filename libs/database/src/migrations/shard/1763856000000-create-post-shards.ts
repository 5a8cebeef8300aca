import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ID_EPOCH_MS, LOGICAL_SHARDS, shardSchema } from '../../post-id';

/**
 * Every physical shard database gets a schema per logical shard (shard_00 … shard_63), each with
 * its own id sequence and id function. Empty schemas cost nothing, and moving a logical shard to
 * another cluster is then a copy of one schema plus a routing change.
 */
export class CreatePostShards1763856000000 implements MigrationInterface {
  name = 'CreatePostShards1763856000000';

  async up(q: QueryRunner): Promise<void> {
    for (let logical = 0; logical < LOGICAL_SHARDS; logical++) {
      const s = shardSchema(logical);
      await q.query(`CREATE SCHEMA ${s}`);
      await q.query(`CREATE SEQUENCE ${s}.post_seq`);
      await q.query(`
        CREATE FUNCTION ${s}.next_id(OUT result bigint) AS $$
        DECLARE
          seq_id bigint;
          now_ms bigint;
        BEGIN
          SELECT nextval('${s}.post_seq') % 1024 INTO seq_id;
          now_ms := floor(extract(epoch FROM clock_timestamp()) * 1000);
          result := ((now_ms - ${ID_EPOCH_MS}) << 23) | (${logical} << 10) | seq_id;
        END;
        $$ LANGUAGE plpgsql`);
      await q.query(`
        CREATE TABLE ${s}.posts (
          id         bigint PRIMARY KEY DEFAULT ${s}.next_id(),
          author_id  bigint NOT NULL,
          text       text NOT NULL,
          like_count integer NOT NULL DEFAULT 0,
          created_at timestamptz NOT NULL DEFAULT now()
        )`);
      await q.query(`CREATE INDEX posts_author_id ON ${s}.posts (author_id, id DESC)`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (let logical = 0; logical < LOGICAL_SHARDS; logical++) {
      await q.query(`DROP SCHEMA ${shardSchema(logical)} CASCADE`);
    }
  }
}
