import { Logger } from '@nestjs/common';
import { DependencyUnavailable } from '@murmur/errors';
import { dbReadsTotal, dbReplicaLagSeconds } from './database-metrics';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { ConsistencyContext } from './consistency-context';
import { lsnAtLeast } from './lsn';
import { type Sql, toSql } from './sql';

/** One Postgres node of a cluster: a primary or a streaming replica, which one is discovered. */
export interface ClusterNode {
  name: string;
  dataSource: DataSource;
}

export interface ClusterOptions {
  replicasEnabled: boolean;
  /** how often each node's role and WAL position are probed */
  pollMs: number;
  /** a probe that takes longer marks its node down (a hung server answers nothing, not an error) */
  probeTimeoutMs?: number;
}

export type NodeRole = 'primary' | 'replica';

/** What one node looked like at its last probe or use. */
export interface NodeHealth {
  name: string;
  role: NodeRole;
  up: boolean;
  /** the primary's insert position or a replica's replay position */
  lsn?: string;
}

export interface ClusterHealth {
  /** the node writes go to; undefined while no single reachable node is primary */
  primary?: string;
  /** nodes that answered their last probe (reads can be served while this is above 0) */
  reachable: number;
  nodes: NodeHealth[];
}

interface NodeState extends ClusterNode, NodeHealth {
  probing?: Promise<void>;
  /**
   * the probe's own connection: a probe that queued behind a busy pool would miss its deadline
   * under load and take a healthy node for a dead one (seen: a burst of writes answered 503
   * `dependency_unavailable` instead of being shed as `overloaded`)
   */
  probeClient?: Client;
  /** work waiting on this node; each is released (with a 503) when the node is marked down */
  waiters: Set<() => void>;
}

type ReadReason =
  | 'replica'
  | 'disabled'
  | 'no_replicas'
  | 'lagging'
  | 'replicas_down'
  | 'replica_error'
  | 'replica_miss'
  | 'primary_down';

export interface ReadOptions<T> {
  /**
   * A result that may only mean "not replayed yet" (a lookup by id that found nothing): it is
   * confirmed on the primary before the caller believes it, so a row a few ms old is not
   * answered (and negatively cached) as 404. Costs one primary read per such miss; with the
   * primary down such a miss is a 503, never an unconfirmed 404.
   */
  missing?: (result: T) => boolean;
}

export const PROBE_TIMEOUT_MS = 1_000;

// One round trip tells a node's role and position; a replica's lag is the age of its last replay.
const PROBE_SQL = `SELECT pg_is_in_recovery() AS standby,
  (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
        ELSE pg_current_wal_insert_lsn() END)::text AS lsn,
  CASE WHEN pg_is_in_recovery()
       THEN COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
       ELSE 0 END::float8 AS lag`;

interface ProbeRow {
  standby: boolean;
  lsn: string | null;
  lag: number;
}

/**
 * One Postgres primary and its streaming replicas, as a set of nodes whose roles are discovered:
 * every node is probed in the background (`pg_is_in_recovery()` and its WAL position), so after a
 * failover writes follow the promoted node without a restart. Writes go to the primary and record
 * the WAL position they produced in the caller's consistency context; reads go to a healthy
 * replica that has replayed at least that position, else to the primary. Without a recorded
 * position (a caller who has not written) any healthy replica serves.
 *
 * Each node is its own breaker: a node that refuses, breaks a connection or misses its probe's
 * deadline is down until a probe answers again, and while it is down nothing waits on it. With
 * the primary down a write is a 503 `dependency_unavailable` at once, and reads go on from the
 * replicas.
 */
export class ReplicatedCluster {
  private readonly logger: Logger;
  private readonly nodes: NodeState[];
  private readonly probeTimeoutMs: number;
  private next = 0;
  private poller?: NodeJS.Timeout;
  private splitWarnedAt = 0;

  /**
   * `primary` is the node configured as primary: it is taken for the primary (and the others for
   * replicas) until the first probe says otherwise.
   */
  constructor(
    readonly name: string,
    primary: DataSource | ClusterNode,
    replicas: ClusterNode[],
    private readonly options: ClusterOptions,
  ) {
    this.logger = new Logger(`Cluster:${name}`);
    this.probeTimeoutMs = options.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
    const initial = (node: ClusterNode, role: NodeRole): NodeState => ({
      ...node,
      role,
      up: true,
      waiters: new Set(),
    });
    this.nodes = [
      initial(
        'dataSource' in primary ? primary : { name: 'primary', dataSource: primary },
        'primary',
      ),
      ...replicas.map((r) => initial(r, 'replica')),
    ];
  }

  /** Probe every node in the background (off the request path), every `pollMs`. */
  startPolling(): void {
    if (this.poller) {
      return;
    }
    const tick = (): void => {
      void this.probeAll();
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
    await Promise.all(
      this.nodes.map((n) => {
        const client = n.probeClient;
        n.probeClient = undefined;
        return client ? client.end().catch(() => undefined) : Promise.resolve();
      }),
    );
    await Promise.all(
      this.nodes.filter((n) => n.dataSource.isInitialized).map((n) => n.dataSource.destroy()),
    );
  }

  /** Probe every node now (a probe already running on a node is awaited, not repeated). */
  async probeAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.probe(n)));
  }

  /** Run `fn` in a transaction on the primary and remember the WAL position for the caller. */
  async write<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const { node, result } = await this.onWritable((n) =>
      n.dataSource.transaction((manager) => fn(toSql(manager))),
    );
    await this.recordPosition(node);
    return result;
  }

  /**
   * One statement (or several independent ones) on the primary for background work, outside any
   * transaction: no caller, so no read-your-writes position is recorded.
   */
  async onPrimary<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return (await this.onWritable((n) => fn(toSql(n.dataSource)))).result;
  }

  /**
   * A transaction on the primary for background work (an outbox relay): no caller, so no
   * read-your-writes position is recorded.
   */
  async primaryTransaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return (await this.onWritable((n) => n.dataSource.transaction((manager) => fn(toSql(manager)))))
      .result;
  }

  /**
   * The newest WAL position there is: the primary's insert position (at or past the commit
   * record of every committed transaction; not pg_current_wal_lsn(), the write position, which
   * under synchronous_commit off can sit behind a commit still in the WAL buffers), or, with the
   * primary down, the furthest replica's replay position: nothing newer can be read anywhere.
   */
  async currentLsn(): Promise<string> {
    const primary = this.writableNode();
    if (primary) {
      return this.insertLsn(primary);
    }
    const freshest = this.freshestReplica();
    if (freshest?.lsn === undefined) {
      throw this.unavailable('database');
    }
    return freshest.lsn;
  }

  /** Record the primary's current WAL position for the caller (after a commit made elsewhere). */
  async recordWritePosition(): Promise<void> {
    const primary = this.writableNode();
    if (!primary) {
      throw this.unavailable('primary');
    }
    await this.recordPosition(primary);
  }

  /** A read that tolerates replica lag, except the caller's own writes (read-your-writes). */
  async read<T>(fn: (sql: Sql) => Promise<T>, options: ReadOptions<T> = {}): Promise<T> {
    const { node, reason } = await this.pickReadNode();
    const run = (n: NodeState): Promise<T> => this.guarded(n, () => fn(toSql(n.dataSource)));
    if (node.role === 'primary') {
      dbReadsTotal.inc({ cluster: this.name, target: 'primary', reason });
      return run(node);
    }
    let result: T;
    try {
      result = await run(node);
    } catch (error) {
      const nodeFailed = isConnectionError(error) || error instanceof DependencyUnavailable;
      const fallback = nodeFailed ? this.readFallback(node) : undefined;
      if (!fallback) {
        throw error;
      }
      this.logger.warn(
        `replica ${node.name} failed (${(error as Error).message}); reading elsewhere`,
      );
      dbReadsTotal.inc({ cluster: this.name, target: fallback.role, reason: 'replica_error' });
      return run(fallback);
    }
    dbReadsTotal.inc({ cluster: this.name, target: 'replica', reason });
    if (options.missing?.(result)) {
      const primary = this.writableNode();
      if (!primary) {
        throw this.unavailable('primary');
      }
      dbReadsTotal.inc({ cluster: this.name, target: 'primary', reason: 'replica_miss' });
      return run(primary);
    }
    return result;
  }

  /**
   * A read that must see the latest committed state (e.g. checking a password): the primary, or
   * with the primary down the furthest replica, which then holds the latest state there is.
   */
  readPrimary<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const node = this.writableNode() ?? this.freshestReplica();
    if (!node) {
      return Promise.reject(this.unavailable('database'));
    }
    const reason = node.role === 'primary' ? 'disabled' : 'primary_down';
    dbReadsTotal.inc({ cluster: this.name, target: node.role, reason });
    return this.guarded(node, () => fn(toSql(node.dataSource)));
  }

  /** Every node's last known role and state, and the primary writes go to. */
  health(): ClusterHealth {
    return {
      primary: this.writableNode()?.name,
      reachable: this.nodes.filter((n) => n.up).length,
      nodes: this.nodes.map(({ name, role, up, lsn }) => ({ name, role, up, lsn })),
    };
  }

  /**
   * The one reachable node that says it is primary. Two that both say so (an old primary back
   * without having been fenced) get no writes at all: a write to the wrong one would be lost.
   */
  private writableNode(): NodeState | undefined {
    const primaries = this.nodes.filter((n) => n.up && n.role === 'primary');
    return primaries.length === 1 ? primaries[0] : undefined;
  }

  /**
   * Run `work` on the primary. A node found read-only (SQLSTATE 25006: a replica now, after a
   * failover) changed role under us: nothing was written, so after probing every node the work
   * runs once more on the primary found, if there is one.
   */
  private async onWritable<T>(
    work: (node: NodeState) => Promise<T>,
  ): Promise<{ node: NodeState; result: T }> {
    for (let attempt = 0; ; attempt++) {
      const node = this.writableNode();
      if (!node) {
        const primaries = this.nodes.filter((n) => n.up && n.role === 'primary');
        if (primaries.length > 1 && Date.now() - this.splitWarnedAt > 10_000) {
          this.splitWarnedAt = Date.now();
          this.logger.error(
            `${primaries.map((n) => n.name).join(' and ')} all say they are primary: refusing writes`,
          );
        }
        throw this.unavailable('primary');
      }
      try {
        return { node, result: await this.guarded(node, () => work(node)) };
      } catch (error) {
        if (codeOf(error) !== READ_ONLY || attempt > 0) {
          throw error;
        }
        this.logger.warn(`${node.name} is read-only now: looking for the new primary`);
        node.role = 'replica';
        await this.probeAll();
      }
    }
  }

  /**
   * Run `work` on `node`, failing at once if it is down and as soon as it is marked down (by a
   * probe that missed its deadline: a hung server never answers, and this work would otherwise
   * hold its request until query_timeout). A connection failure marks the node down. The work
   * itself is not cancelled; a late result is ignored.
   */
  private guarded<T>(node: NodeState, work: () => Promise<T>): Promise<T> {
    if (!node.up) {
      return Promise.reject(this.unavailable(node.role));
    }
    return new Promise<T>((resolve, reject) => {
      const lost = (): void => reject(this.unavailable(node.role));
      node.waiters.add(lost);
      work()
        .then(resolve, (error: unknown) => {
          node.waiters.delete(lost);
          if (isConnectionError(error)) {
            this.markDown(node, (error as Error).message);
          }
          reject(error instanceof Error ? error : new Error(String(error)));
        })
        .finally(() => node.waiters.delete(lost));
    });
  }

  private markDown(node: NodeState, why: string): void {
    if (node.up) {
      node.up = false;
      this.logger.warn(`${node.role} ${node.name} is down (${why})`);
    }
    const waiters = [...node.waiters];
    node.waiters.clear();
    for (const release of waiters) {
      release();
    }
  }

  private unavailable(what: 'primary' | 'replica' | 'database'): DependencyUnavailable {
    const node = what === 'database' ? '' : ` ${what}`;
    return new DependencyUnavailable(`The ${this.name} database${node}`);
  }

  private async recordPosition(primary: NodeState): Promise<void> {
    if (!ConsistencyContext.current()) {
      return;
    }
    await ConsistencyContext.noteWrite(this.name, await this.insertLsn(primary));
  }

  private async insertLsn(primary: NodeState): Promise<string> {
    const rows = await this.guarded(primary, () =>
      primary.dataSource.query<Array<{ lsn: string }>>(
        'SELECT pg_current_wal_insert_lsn()::text AS lsn',
      ),
    );
    return rows[0].lsn;
  }

  private replicas(): NodeState[] {
    return this.nodes.filter((n) => n.role === 'replica');
  }

  /** The reachable replica that has replayed the most (what is left to read with the primary down). */
  private freshestReplica(): NodeState | undefined {
    return this.replicas()
      .filter((r) => r.up && r.lsn !== undefined)
      .reduce<NodeState | undefined>(
        (best, r) => (best?.lsn === undefined || lsnAtLeast(r.lsn as string, best.lsn) ? r : best),
        undefined,
      );
  }

  /** Where a read goes after its replica failed: the primary, else another reachable replica. */
  private readFallback(failed: NodeState): NodeState | undefined {
    return this.writableNode() ?? this.rotation().find((r) => r !== failed && r.up);
  }

  private async pickReadNode(): Promise<{ node: NodeState; reason: ReadReason }> {
    const primary = this.writableNode();
    const viaPrimary = (reason: ReadReason): { node: NodeState; reason: ReadReason } => {
      if (primary) {
        return { node: primary, reason };
      }
      throw this.unavailable(reason === 'disabled' ? 'primary' : 'database');
    };
    if (!this.options.replicasEnabled) {
      return viaPrimary('disabled');
    }
    if (this.replicas().length === 0) {
      return viaPrimary('no_replicas');
    }
    const healthy = this.rotation().filter((r) => r.up);
    if (healthy.length === 0) {
      return viaPrimary('replicas_down');
    }
    const required = ConsistencyContext.requiredLsn(this.name);
    if (required === undefined) {
      return { node: healthy[0], reason: 'replica' };
    }
    const fresh = healthy.find((r) => r.lsn !== undefined && lsnAtLeast(r.lsn, required));
    if (fresh) {
      return { node: fresh, reason: 'replica' };
    }
    // The polled positions may be a few ms old: ask one replica now before giving up on replicas.
    const candidate = healthy[0];
    await this.probe(candidate);
    if (candidate.up && candidate.lsn !== undefined && lsnAtLeast(candidate.lsn, required)) {
      return { node: candidate, reason: 'replica' };
    }
    if (primary) {
      return { node: primary, reason: 'lagging' };
    }
    // With the primary gone no replica will catch up: the furthest one is the best there is.
    const freshest = this.freshestReplica() ?? candidate;
    return { node: freshest, reason: 'primary_down' };
  }

  /** Replicas in round-robin order, so reads spread over all of them. */
  private rotation(): NodeState[] {
    const replicas = this.replicas();
    if (replicas.length === 0) {
      return [];
    }
    const start = this.next++ % replicas.length;
    return [...replicas.slice(start), ...replicas.slice(0, start)];
  }

  /**
   * Probe one node: resolves once it answered, or once it missed the deadline (then it is down).
   * A probe still waiting for its answer is not repeated, so a hung node holds one connection.
   */
  private probe(node: NodeState): Promise<void> {
    node.probing ??= this.askNode(node).finally(() => {
      node.probing = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.markDown(node, `no answer within ${this.probeTimeoutMs} ms`);
        resolve();
      }, this.probeTimeoutMs);
    });
    return Promise.race([node.probing, deadline]).finally(() => clearTimeout(timer));
  }

  private async askNode(node: NodeState): Promise<void> {
    try {
      // A node that was down when the process started has no pool yet.
      if (!node.dataSource.isInitialized) {
        await node.dataSource.initialize();
      }
      const url = (node.dataSource.options as { url?: string } | undefined)?.url;
      if (url === undefined) {
        this.noteProbe(node, (await node.dataSource.query<ProbeRow[]>(PROBE_SQL))[0]);
        return;
      }
      if (!node.probeClient) {
        const client = new Client({
          connectionString: url,
          connectionTimeoutMillis: this.probeTimeoutMs,
          application_name: `murmur-probe:${this.name}`,
        });
        client.on('error', () => undefined); // a broken connection fails the next query
        await client.connect();
        node.probeClient = client;
      }
      this.noteProbe(node, (await node.probeClient.query<ProbeRow>(PROBE_SQL)).rows[0]);
    } catch (error) {
      const client = node.probeClient;
      node.probeClient = undefined;
      void client?.end().catch(() => undefined);
      this.markDown(node, (error as Error).message);
    }
  }

  private noteProbe(node: NodeState, row: ProbeRow): void {
    const role: NodeRole = row.standby ? 'replica' : 'primary';
    if (!node.up || node.role !== role) {
      this.logger.log(
        `${role} ${node.name} is up${node.role !== role ? ` (was ${node.role})` : ''}`,
      );
    }
    node.role = role;
    // A replica that has replayed nothing yet cannot say how fresh it is: not used for reads.
    node.up = row.lsn !== null;
    node.lsn = row.lsn ?? undefined;
    if (role === 'replica') {
      dbReplicaLagSeconds.set({ cluster: this.name, replica: node.name }, row.lag);
    }
  }
}

/** SQLSTATE read_only_sql_transaction: a write reached a node in recovery. */
const READ_ONLY = '25006';

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : '';
}

/** A failure of the node or the way to it (not of the statement): the node is taken as down. */
export function isConnectionError(error: unknown): boolean {
  const message = (error as Error | undefined)?.message ?? '';
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      'EHOSTUNREACH',
      '57P01',
      '57P02',
      '57P03',
      '08000',
      '08003',
      '08006',
      '08001',
    ].includes(codeOf(error)) ||
    /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Query read timeout/i.test(
      message,
    )
  );
}
