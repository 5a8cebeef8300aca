import type { NewEvent, OutboxEvent } from '@murmur/contracts';
import type { Sql } from '@murmur/database';

interface OutboxRow {
  id: string;
  name: OutboxEvent['name'];
  payload: OutboxEvent['payload'];
  created_ms: number;
}

export interface ClaimedEvent {
  event: OutboxEvent;
  /** when the event's transaction wrote it, epoch ms */
  createdAt: number;
}

/** The event id a relay publishes under: the source database and the row, unique across sources. */
export const eventId = (source: string, seq: string): string => `evt-${source}-${seq}`;

/**
 * Append events in the caller's transaction (`sql` must be the transaction of the change they
 * announce: that is the whole point). Returns the rows' sequence numbers, in order.
 */
export async function appendEvents(sql: Sql, events: readonly NewEvent[]): Promise<string[]> {
  if (events.length === 0) {
    return [];
  }
  const rows = await sql.query<{ id: string }>(
    `INSERT INTO outbox (name, payload)
     SELECT n, p FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS t(n, p, i) ORDER BY i
     RETURNING id`,
    [events.map((e) => e.name), events.map((e) => JSON.stringify(e.payload))],
  );
  return rows.map((r) => String(r.id));
}

/**
 * Claim up to `limit` unsent events, oldest first, locking them for this transaction; rows
 * another relay holds are skipped, not waited for (two relays never publish the same batch at the
 * same time, and neither blocks the other).
 */
export async function claimUnsent(
  sql: Sql,
  source: string,
  limit: number,
): Promise<ClaimedEvent[]> {
  const rows = await sql.query<OutboxRow>(
    `SELECT id::text AS id, name, payload,
            (EXTRACT(EPOCH FROM created_at) * 1000)::float8 AS created_ms
     FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map((r) => ({
    event: {
      id: eventId(source, r.id),
      seq: r.id,
      name: r.name,
      payload: r.payload,
    } as OutboxEvent,
    createdAt: r.created_ms,
  }));
}

export async function markSent(sql: Sql, seqs: readonly string[]): Promise<void> {
  await sql.query(`UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])`, [seqs]);
}

/** Delete sent events older than `hours`, a bounded batch at a time; returns how many went. */
export async function purgeSent(sql: Sql, hours: number, limit = 5_000): Promise<number> {
  const rows = await sql.query<{ id: string }>(
    `DELETE FROM outbox WHERE id IN (
       SELECT id FROM outbox
       WHERE sent_at IS NOT NULL AND sent_at < now() - make_interval(hours => $1)
       ORDER BY id LIMIT $2)
     RETURNING id`,
    [hours, limit],
  );
  return rows.length;
}

/** Unsent events and the age of the oldest, for the backlog gauge. */
export async function backlog(sql: Sql): Promise<{ unsent: number; oldestSeconds: number }> {
  const rows = await sql.query<{ unsent: number; oldest: number }>(
    `SELECT count(*)::int AS unsent,
            COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest
     FROM outbox WHERE sent_at IS NULL`,
  );
  return { unsent: rows[0].unsent, oldestSeconds: rows[0].oldest };
}
