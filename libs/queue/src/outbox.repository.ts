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

/** The events as stored in `source`'s outbox, `seqs` being their rows, in order. */
function stored(source: string, events: readonly NewEvent[], seqs: string[]): OutboxEvent[] {
  return events.map((e, i) => ({ ...e, id: eventId(source, seqs[i]), source, seq: seqs[i] }));
}

/**
 * Append events to `source`'s outbox in the caller's transaction (`sql` must be the transaction
 * of the change they announce: that is the whole point). Returns them as stored, to hand to
 * `OutboxRelay.publish` once the transaction has committed.
 */
export async function appendEvents(
  sql: Sql,
  source: string,
  events: readonly NewEvent[],
): Promise<OutboxEvent[]> {
  if (events.length === 0) {
    return [];
  }
  const rows = await sql.query<{ id: string }>(
    `INSERT INTO outbox (name, payload)
     SELECT n, p FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS t(n, p, i) ORDER BY i
     RETURNING id`,
    [events.map((e) => e.name), events.map((e) => JSON.stringify(e.payload))],
  );
  return stored(
    source,
    events,
    rows.map((r) => String(r.id)),
  );
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
     FROM outbox o WHERE sent_at IS NULL ORDER BY o.id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map((r) => ({
    event: stored(source, [{ name: r.name, payload: r.payload } as NewEvent], [r.id])[0],
    createdAt: r.created_ms,
  }));
}

/**
 * Mark events sent. Their transaction (the caller's, or this statement's own) commits without
 * waiting for its WAL flush (`set_config(…, true)` is transaction-local): losing the mark in a
 * crash only means one more publication of events that are delivered at least once and
 * deduplicated anyway, and a write's own publication would otherwise pay a second fsync'd commit
 * on top of its change's. One statement, so it needs no transaction of its own.
 */
export async function markSent(sql: Sql, seqs: readonly string[]): Promise<void> {
  await sql.query(
    `WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true))
     UPDATE outbox SET sent_at = now() FROM async_commit WHERE id = ANY($1::bigint[])`,
    [seqs],
  );
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
