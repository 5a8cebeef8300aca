import type { DataSource } from 'typeorm';
import { ConsistencyContext, type ConsistencyState } from './consistency-context';
import { ReplicatedCluster } from './replicated-cluster';

/** A typed fake of the part of DataSource the cluster uses. */
class FakeNode {
  readonly isInitialized = true;
  replayLsn: string | null = '0/100';
  currentLsn = '0/100';
  failNext = false;
  readonly seen: string[] = [];

  constructor(readonly name: string) {}

  query(text: string): Promise<unknown[]> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      );
    }
    this.seen.push(text);
    if (text.includes('pg_last_wal_replay_lsn')) {
      return Promise.resolve([{ lsn: this.replayLsn, lag: 0 }]);
    }
    if (text.includes('pg_current_wal_insert_lsn')) {
      return Promise.resolve([{ lsn: this.currentLsn }]);
    }
    return Promise.resolve([{ served_by: this.name }]);
  }

  transaction<T>(fn: (manager: FakeNode) => Promise<T>): Promise<T> {
    return fn(this);
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

  const servedBy = (): Promise<string> =>
    sut.read(async (sql) => (await sql.query<{ served_by: string }>('SELECT who'))[0].served_by);

  const inRequest = <T>(state: ConsistencyState, fn: () => Promise<T>): Promise<T> =>
    ConsistencyContext.run(state, fn);

  beforeEach(() => {
    primary = new FakeNode('primary');
    replica = new FakeNode('replica');
    sut = new ReplicatedCluster(
      'main',
      asDataSource(primary),
      [{ name: 'r1', dataSource: asDataSource(replica) }],
      {
        replicasEnabled: true,
        pollMs: 1000,
      },
    );
  });

  it('serves a caller without writes from a replica', async () => {
    await expect(inRequest({ minLsn: {} }, servedBy)).resolves.toBe('replica');
  });

  it('records the WAL position of a write and persists it for the caller', async () => {
    const persisted: string[] = [];
    primary.currentLsn = '0/200';
    const state: ConsistencyState = {
      minLsn: {},
      onWrite: (_c, lsn) => Promise.resolve(void persisted.push(lsn)),
    };
    await inRequest(state, () => sut.write((sql) => sql.query('UPDATE x')));
    expect(state.minLsn.main).toBe('0/200');
    expect(persisted).toEqual(['0/200']);
  });

  it('reads from the primary while the replica has not replayed the caller’s write', async () => {
    replica.replayLsn = '0/150';
    await expect(inRequest({ minLsn: { main: '0/200' } }, servedBy)).resolves.toBe('primary');
  });

  it('goes back to the replica once it has replayed the write', async () => {
    replica.replayLsn = '0/150';
    await expect(inRequest({ minLsn: { main: '0/200' } }, servedBy)).resolves.toBe('primary');
    replica.replayLsn = '0/200';
    await expect(inRequest({ minLsn: { main: '0/200' } }, servedBy)).resolves.toBe('replica');
  });

  it('confirms a miss on the primary when the caller says a result may be replica lag', async () => {
    const lookup = (sql: { query<R>(t: string): Promise<R[]> }): Promise<string[]> =>
      sql.query<{ served_by: string }>('SELECT who').then((rows) => rows.map((r) => r.served_by));
    // The replica has not replayed the row: it answers nothing, the primary has it.
    const missing = (r: string[]): boolean => r.length === 0 || r[0] === 'replica';
    await expect(inRequest({ minLsn: {} }, () => sut.read(lookup, { missing }))).resolves.toEqual([
      'primary',
    ]);
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
    sut = new ReplicatedCluster(
      'main',
      asDataSource(primary),
      [{ name: 'r1', dataSource: asDataSource(replica) }],
      {
        replicasEnabled: false,
        pollMs: 1000,
      },
    );
    await expect(inRequest({ minLsn: {} }, servedBy)).resolves.toBe('primary');
  });
});
