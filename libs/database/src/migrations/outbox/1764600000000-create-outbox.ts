import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox, one per database that produces events (main, and each physical post
 * shard): an event row is inserted in the transaction of the change it announces, and a relay
 * publishes unsent rows to BullMQ and marks them sent. The partial index keeps the relay's scan
 * to the unsent rows however many sent ones are kept.
 */
export class CreateOutbox1764600000000 implements MigrationInterface {
  name = 'CreateOutbox1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        id         bigserial PRIMARY KEY,
        name       text NOT NULL,
        payload    jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at    timestamptz
      )`);
    await q.query(`CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE outbox`);
  }
}
