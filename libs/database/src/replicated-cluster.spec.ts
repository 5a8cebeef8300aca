import { DependencyUnavailable } from '@murmur/errors';
import type { DataSource } from 'typeorm';
import { ConsistencyContext, type ConsistencyState } from './consistency-context';
import { ReplicatedCluster } from './replicated-cluster';

type Mode = 'ok' | 'refuse' | 'hang';

/** A typed fake of the part of DataSource the cluster uses: one Postgres node. */
class FakeNode {
  isInitialized = true;
  /** in recovery: answers reads, refuses writes with 25006 */
  standby: boolean;
  mode: Mode = 'ok';
  lsn: string | null = '0/100';
  failNext = false;
  readonly seen: string[] = [];

  constructor(
    readonly name: string,
    role: 'primary' | 'replica',
  ) {
    this.standby = role === 'replica';
  }

  query(text: string): Promise<unknown[]> {
    if (this.mode === 'hang') {
      return new Promise(() => undefined);
    }
    if (this.mode === 'refuse' || this.failNext) {
      this.failNext = false;
      return Promise.reject(
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      );
    }
    if (text.includes('pg_is_in_recovery')) {
      return Promise.resolve([{ standby: this.standby, lsn: this.lsn, lag: 0 }]);
    }
    this.seen.push(text);
    if (text.includes('pg_current_wal_insert_lsn')) {
      return Promise.resolve([{ lsn: this.lsn }]);
    }
    if (text.startsWith('UPDATE') && this.standby) {
      return Promise.reject(
        Object.assign(new Error('cannot execute UPDATE in a read-only transaction'), {
          code: '25006',
        }),
      );
    }
    return Promise.resolve([{ served_by: this.name }]);
  }

  transaction<T>(fn: (manager: FakeNode) => Promise<T>): Promise<T> {
    return fn(this);
  }

  initialize(): Promise<void> {
    if (this.mode !== 'ok') {
      return this.query('SELECT 1').then(() => undefined);
    }
    this.isInitialized = true;
    return Promise.resolve();
  }

  destroy(): Promise<void> {
    return Promise.resolve();
  }
}

const asDataSource = (n: FakeNode): DataSource => n as unknown as DataSource;

describe(ReplicatedCluster.name, () => {
  let primary: FakeNode;
  let replica: FakeNode;
  let sut: ReplicatedCluster;

  const cluster = (nodes: FakeNode[], replicasEnabled = true): ReplicatedCluster =>
    new ReplicatedCluster(
      'main',
      { name: nodes[0].name, dataSource: asDataSource(nodes[0]) },
      nodes.slice(1).map((n) => ({ name: n.name, dataSource: asDataSource(n) })),
      { replicasEnabled, pollMs: 1000, probeTimeoutMs: 30 },
    );

  const servedBy = (): Promise<string> =>
    sut.read(async (sql) => (await sql.query<{ served_by: string }>('SELECT who'))[0].served_by);

  const writtenBy = (): Promise<string> =>
    sut.write(async (sql) => (await sql.query<{ served_by: string }>('UPDATE x'))[0].served_by);

  const inRequest = <T>(state: ConsistencyState, fn: () => Promise<T>): Promise<T> =>
    ConsistencyContext.run(state, fn);

  beforeEach(() => {
    primary = new FakeNode('primary', 'primary');
    replica = new FakeNode('replica', 'replica');
    sut = cluster([primary, replica]);
  });

  describe('reads and writes', () => {
    it('serves a caller without writes from a replica', async () => {
      await expect(inRequest({ minLsn: {} }, servedBy)).resolves.toBe('replica');
    });

    it('records the WAL position of a write and persists it for the caller', async () => {
      const persisted: string[] = [];
      primary.lsn = '0/200';
      const state: ConsistencyState = {
        minLsn: {},
        onWrite: (_c, lsn) => Promise.resolve(void persisted.push(lsn)),
      };
      await inRequest(state, writtenBy);
      expect(state.minLsn.main).toBe('0/200');
      expect(persisted).toEqual(['0/200']);
    });

    it('reads from the primary while the replica has not replayed the caller’s write', async () => {
      replica.lsn = '0/150';
      await expect(inRequest({ minLsn: { main: '0/200' } }, servedBy)).resolves.toBe('primary');
    });

    it('goes back to the replica once it has replayed the write', async () => {
      replica.lsn = '0/150';
      await expect(inRequest({ minLsn: { main: '0/200' } }, servedBy)).resolves.toBe('primary');
      replica.lsn = '0/200';
      await expect(inRequest({ minLsn: { main: '0/200' } }, servedBy)).resolves.toBe('replica');
    });

    it('confirms a miss on the primary when the caller says a result may be replica lag', async () => {
      const lookup = (sql: { query<R>(t: string): Promise<R[]> }): Promise<string[]> =>
        sql.query<{ served_by: string }>('SELECT who').then((rows) => rows.map((r) => r.served_by));
      // The replica has not replayed the row: it answers nothing, the primary has it.
      const missing = (r: string[]): boolean => r.length === 0 || r[0] === 'replica';
      await expect(inRequest({ minLsn: {} }, () => sut.read(lookup, { missing }))).resolves.toEqual(
        ['primary'],
      );
      expect(replica.seen).toContain('SELECT who');
      // A result that is not a miss stays on the replica; without the option nothing is confirmed.
      await expect(
        inRequest({ minLsn: {} }, () => sut.read(lookup, { missing: () => false })),
      ).resolves.toEqual(['replica']);
      await expect(inRequest({ minLsn: {} }, () => sut.read(lookup))).resolves.toEqual(['replica']);
    });

    it('falls back to the primary when a replica fails, and avoids it afterwards', async () => {
      replica.failNext = true;
      await expect(inRequest({ minLsn: {} }, servedBy)).resolves.toBe('primary');
      await expect(inRequest({ minLsn: {} }, servedBy)).resolves.toBe('primary');
    });

    it('uses only the primary when replicas are switched off', async () => {
      sut = cluster([primary, replica], false);
      await expect(inRequest({ minLsn: {} }, servedBy)).resolves.toBe('primary');
    });
  });

  describe('primary discovery', () => {
    it('writes to the node that says it is primary, whichever was configured as primary', async () => {
      // After a failover: the configured primary was rebuilt as a replica, a replica promoted.
      primary.standby = true;
      replica.standby = false;
      await sut.probeAll();
      await expect(writtenBy()).resolves.toBe('replica');
      expect(sut.health()).toMatchObject({ primary: 'replica', reachable: 2 });
      await expect(servedBy()).resolves.toBe('primary');
    });

    it('finds the new primary when a write meets a read-only node, and writes there once', async () => {
      const promoted = new FakeNode('replica-2', 'replica');
      sut = cluster([primary, replica, promoted]);
      await sut.probeAll();
      // Promotion and demotion happen between two probes: the next write still goes to the old node.
      primary.standby = true;
      promoted.standby = false;
      await expect(writtenBy()).resolves.toBe('replica-2');
      expect(primary.seen.filter((q) => q === 'UPDATE x')).toHaveLength(1);
      expect(sut.health().primary).toBe('replica-2');
    });

    it('refuses writes while two nodes say they are primary', async () => {
      replica.standby = false;
      await sut.probeAll();
      await expect(writtenBy()).rejects.toBeInstanceOf(DependencyUnavailable);
      expect(primary.seen).not.toContain('UPDATE x');
    });

    it('opens a node that was down at boot once it answers, and uses it', async () => {
      replica.isInitialized = false;
      replica.mode = 'refuse';
      await sut.probeAll();
      await expect(servedBy()).resolves.toBe('primary');
      replica.mode = 'ok';
      await sut.probeAll();
      expect(replica.isInitialized).toBe(true);
      await expect(servedBy()).resolves.toBe('replica');
    });
  });

  describe('with the primary down', () => {
    it('refuses writes at once with a 503 and serves reads from the replica', async () => {
      primary.mode = 'refuse';
      await sut.probeAll();
      const seen = primary.seen.length;
      await expect(writtenBy()).rejects.toBeInstanceOf(DependencyUnavailable);
      await expect(sut.onPrimary((sql) => sql.query('UPDATE x'))).rejects.toBeInstanceOf(
        DependencyUnavailable,
      );
      expect(primary.seen).toHaveLength(seen);
      await expect(inRequest({ minLsn: {} }, servedBy)).resolves.toBe('replica');
      expect(sut.health()).toMatchObject({ primary: undefined, reachable: 1 });
    });

    it('takes a primary that stops answering for down within the probe deadline, releasing work waiting on it', async () => {
      await sut.probeAll();
      primary.mode = 'hang';
      const started = Date.now();
      const write = writtenBy();
      await sut.probeAll();
      await expect(write).rejects.toBeInstanceOf(DependencyUnavailable);
      expect(Date.now() - started).toBeLessThan(500);
      expect(sut.health().primary).toBeUndefined();
    });

    it('serves a caller’s read from the furthest replica, and a miss there is a 503, not a 404', async () => {
      const behind = new FakeNode('behind', 'replica');
      behind.lsn = '0/50';
      sut = cluster([primary, behind, replica]);
      primary.mode = 'refuse';
      await sut.probeAll();
      await expect(inRequest({ minLsn: { main: '0/200' } }, servedBy)).resolves.toBe('replica');
      await expect(
        inRequest({ minLsn: {} }, () =>
          sut.read(() => Promise.resolve([]), { missing: (r) => r.length === 0 }),
        ),
      ).rejects.toBeInstanceOf(DependencyUnavailable);
    });

    it('checks credentials and starts sessions on the furthest replica', async () => {
      primary.mode = 'refuse';
      replica.lsn = '0/180';
      await sut.probeAll();
      await expect(
        sut.readPrimary(async (sql) => (await sql.query<{ served_by: string }>('SELECT who'))[0]),
      ).resolves.toEqual({ served_by: 'replica' });
      await expect(sut.currentLsn()).resolves.toBe('0/180');
    });

    it('writes again once a probe finds the primary back', async () => {
      primary.mode = 'refuse';
      await sut.probeAll();
      await expect(writtenBy()).rejects.toBeInstanceOf(DependencyUnavailable);
      primary.mode = 'ok';
      await sut.probeAll();
      await expect(writtenBy()).resolves.toBe('primary');
    });

    it('is a 503 for every read when no node answers', async () => {
      primary.mode = 'refuse';
      replica.mode = 'refuse';
      await sut.probeAll();
      await expect(inRequest({ minLsn: {} }, servedBy)).rejects.toBeInstanceOf(
        DependencyUnavailable,
      );
      expect(sut.health().reachable).toBe(0);
    });
  });
});
