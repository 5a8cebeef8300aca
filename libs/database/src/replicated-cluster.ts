import { Logger } from '@nestjs/common';
import { dbReadsTotal, dbReplicaLagSeconds } from '@murmur/observability';
import type { DataSource } from 'typeorm';
import { ConsistencyContext } from './consistency-context';
import { lsnAtLeast } from './lsn';
import { type Sql, toSql } from './sql';

export interface ReplicaNode {
  name: string;
  dataSource: DataSource;
}

export interface ClusterOptions {
  replicasEnabled: boolean;
  /** how often each replica's replay position is polled */
  pollMs: number;
}

interface ReplicaState extends ReplicaNode {
  healthy: boolean;
  replayLsn?: string;
  checkedAt: number;
}

type ReadReason =
  | 'replica'
  | 'disabled'
  | 'no_replicas'
  | 'lagging'
  | 'replicas_down'
  | 'replica_error'
  | 'replica_miss';

export interface ReadOptions<T> {
  /**
   * A result that may only mean "not replayed yet" (a lookup by id that found nothing): it is
   * confirmed on the primary before the caller believes it, so a row a few ms old is not
   * answered (and negatively cached) as 404. Costs one primary read per such miss.
   */
  missing?: (result: T) => boolean;
}

/**
 * One Postgres primary and its streaming replicas. Writes go to the primary and record the WAL
 * position they produced in the caller's consistency context; reads go to a healthy replica that
 * has replayed at least that position, else to the primary. Without a recorded position (a caller
 * who has not written) any healthy replica serves.
 */
export class ReplicatedCluster {
  private readonly logger: Logger;
  private readonly replicas: ReplicaState[];
  private next = 0;
  private poller?: NodeJS.Timeout;

  constructor(
    readonly name: string,
    readonly primary: DataSource,
    replicas: ReplicaNode[],
    private readonly options: ClusterOptions,
  ) {
    this.logger = new Logger(`Cluster:${name}`);
    this.replicas = replicas.map((r) => ({ ...r, healthy: true, checkedAt: 0 }));
  }

  /** Poll replicas' replay positions in the background (off the request path). */
  startPolling(): void {
    if (this.poller || this.replicas.length === 0 || !this.options.replicasEnabled) {
      return;
    }
    const tick = (): void => {
      void Promise.all(this.replicas.map((r) => this.refreshReplica(r)));
    };
    tick();
    this.poller = setInterval(tick, this.options.pollMs);
    this.poller.unref();
  }

  stopPolling(): void {
    if (this.poller) {
      clearInterval(this.poller);
      this.poller = undefined;
    }
  }

  async close(): Promise<void> {
    this.stopPolling();
    const sources = [this.primary, ...this.replicas.map((r) => r.dataSource)];
    await Promise.all(sources.filter((s) => s.isInitialized).map((s) => s.destroy()));
  }

  /** Run `fn` in a transaction on the primary and remember the WAL position for the caller. */
  async write<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const result = await this.primary.transaction((manager) => fn(toSql(manager)));
    await this.recordWritePosition();
    return result;
  }

  /**
   * One statement (or several independent ones) on the primary for background work, outside any
   * transaction: no caller, so no read-your-writes position is recorded.
   */
  async onPrimary<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return fn(toSql(this.primary));
  }

  /**
   * A transaction on the primary for background work (an outbox relay): no caller, so no
   * read-your-writes position is recorded.
   */
  async primaryTransaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.primary.transaction((manager) => fn(toSql(manager)));
  }

  /**
   * The primary's WAL insert position: at or past the commit record of every committed
   * transaction. Not pg_current_wal_lsn() (the write position): with synchronous_commit off a
   * commit record can still sit in WAL buffers behind it, and a replica that has replayed up to
   * that position would not show the row yet (seen as a 404 for a user who had just signed up).
   */
  async currentLsn(): Promise<string> {
    const rows = await this.primary.query<Array<{ lsn: string }>>(
      'SELECT pg_current_wal_insert_lsn()::text AS lsn',
    );
    return rows[0].lsn;
  }

  /** Record the primary's current WAL position for the caller (after a commit made elsewhere). */
  async recordWritePosition(): Promise<void> {
    if (!ConsistencyContext.current()) {
      return;
    }
    await ConsistencyContext.noteWrite(this.name, await this.currentLsn());
  }

  /** A read that tolerates replica lag, except the caller's own writes (read-your-writes). */
  async read<T>(fn: (sql: Sql) => Promise<T>, options: ReadOptions<T> = {}): Promise<T> {
    const { node, reason } = await this.pickReadNode();
    if (node === this.primary) {
      dbReadsTotal.inc({ cluster: this.name, target: 'primary', reason });
      return fn(toSql(this.primary));
    }
    try {
      const result = await fn(toSql(node));
      dbReadsTotal.inc({ cluster: this.name, target: 'replica', reason });
      if (options.missing?.(result)) {
        dbReadsTotal.inc({ cluster: this.name, target: 'primary', reason: 'replica_miss' });
        return await fn(toSql(this.primary));
      }
      return result;
    } catch (error) {
      const replica = this.replicas.find((r) => r.dataSource === node);
      if (replica && isConnectionError(error)) {
        replica.healthy = false;
        this.logger.warn(
          `replica ${replica.name} failed (${(error as Error).message}); reading from the primary`,
        );
        dbReadsTotal.inc({ cluster: this.name, target: 'primary', reason: 'replica_error' });
        return fn(toSql(this.primary));
      }
      throw error;
    }
  }

  /** A read that must see the latest committed state (e.g. checking a password). */
  readPrimary<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    dbReadsTotal.inc({ cluster: this.name, target: 'primary', reason: 'disabled' });
    return fn(toSql(this.primary));
  }

  replicaStates(): Array<{ name: string; healthy: boolean; replayLsn?: string }> {
    return this.replicas.map(({ name, healthy, replayLsn }) => ({ name, healthy, replayLsn }));
  }

  private async pickReadNode(): Promise<{ node: DataSource; reason: ReadReason }> {
    if (!this.options.replicasEnabled) {
      return { node: this.primary, reason: 'disabled' };
    }
    if (this.replicas.length === 0) {
      return { node: this.primary, reason: 'no_replicas' };
    }
    const healthy = this.rotation().filter((r) => r.healthy);
    if (healthy.length === 0) {
      return { node: this.primary, reason: 'replicas_down' };
    }
    const required = ConsistencyContext.requiredLsn(this.name);
    if (required === undefined) {
      return { node: healthy[0].dataSource, reason: 'replica' };
    }
    const fresh = healthy.find(
      (r) => r.replayLsn !== undefined && lsnAtLeast(r.replayLsn, required),
    );
    if (fresh) {
      return { node: fresh.dataSource, reason: 'replica' };
    }
    // The polled positions may be a few ms old: ask one replica now before giving up on replicas.
    const candidate = healthy[0];
    await this.refreshReplica(candidate);
    if (
      candidate.healthy &&
      candidate.replayLsn !== undefined &&
      lsnAtLeast(candidate.replayLsn, required)
    ) {
      return { node: candidate.dataSource, reason: 'replica' };
    }
    return { node: this.primary, reason: 'lagging' };
  }

  /** Replicas in round-robin order, so reads spread over all of them. */
  private rotation(): ReplicaState[] {
    const start = this.next++ % this.replicas.length;
    return [...this.replicas.slice(start), ...this.replicas.slice(0, start)];
  }

  private async refreshReplica(replica: ReplicaState): Promise<void> {
    try {
      const rows = await replica.dataSource.query<Array<{ lsn: string | null; lag: number }>>(
        `SELECT pg_last_wal_replay_lsn()::text AS lsn,
                COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)::float8 AS lag`,
      );
      if (!replica.healthy) {
        this.logger.log(`replica ${replica.name} is back`);
      }
      replica.healthy = rows[0].lsn !== null;
      replica.replayLsn = rows[0].lsn ?? undefined;
      replica.checkedAt = Date.now();
      dbReplicaLagSeconds.set({ cluster: this.name, replica: replica.name }, rows[0].lag);
    } catch {
      replica.healthy = false;
    }
  }
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? '';
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      '57P01',
      '57P02',
      '57P03',
      '08006',
      '08001',
    ].includes(code) || /Connection terminated|connect ECONNREFUSED|timeout/i.test(message)
  );
}
