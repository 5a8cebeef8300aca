import { testTopology, withPostgres } from '@murmur/testing';
import type { DataSource } from 'typeorm';
import { ConsistencyContext, type ConsistencyState } from './consistency-context';
import { createDataSource } from './data-source';
import { ReplicatedCluster } from './replicated-cluster';

/** Against the test stack's real main cluster: a primary and two streaming replicas. */
describe(`${ReplicatedCluster.name} (real replicas)`, () => {
  const t = testTopology();
  const main = t.postgres.filter((n) => n.cluster === 'main');
  const url = (port: number): string =>
    `postgres://${t.database.user}@127.0.0.1:${port}/${t.database.name}`;
  const replicaNames = main.filter((n) => n.role === 'replica').map((n) => n.name);
  let sources: DataSource[];
  let sut: ReplicatedCluster;

  const setReplay = (paused: boolean): Promise<unknown> =>
    Promise.all(
      replicaNames.map((n) =>
        withPostgres(n, 'postgres', (c) =>
          c.query(`SELECT pg_wal_replay_${paused ? 'pause' : 'resume'}()`),
        ),
      ),
    );

  /** Which node answered: replicas are in recovery, the primary is not. */
  const servedBy = (): Promise<string> =>
    sut.read(async (sql) =>
      (await sql.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r'))[0].r
        ? 'replica'
        : 'primary',
    );

  beforeAll(async () => {
    const primary = main.find((n) => n.role === 'primary');
    sources = main.map((n) =>
      createDataSource({ url: url(n.port), name: 'integration', poolSize: 2 }),
    );
    await Promise.all(sources.map((s) => s.initialize()));
    sut = new ReplicatedCluster(
      'main',
      sources[0],
      sources.slice(1).map((dataSource, i) => ({ name: replicaNames[i], dataSource })),
      { replicasEnabled: true, pollMs: 50 },
    );
    expect(primary?.port).toBe(main[0].port);
    sut.startPolling();
    await sut.write((sql) =>
      sql.query('CREATE TABLE IF NOT EXISTS ryw_probe (id int PRIMARY KEY, v int NOT NULL)'),
    );
  });

  afterAll(async () => {
    await setReplay(false);
    await sut.close();
  });

  it('streams writes to both replicas', async () => {
    const rows = await withPostgres(
      main[0].name,
      'postgres',
      async (c) =>
        (
          await c.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'`,
          )
        ).rows,
    );
    expect(rows[0].n).toBe(2);
  });

  it('reads a caller’s own write from the primary while replay is paused, and from a replica after', async () => {
    const state: ConsistencyState = { minLsn: {} };
    await ConsistencyContext.run(state, async () => {
      await setReplay(true);
      await sut.write((sql) =>
        sql.query(
          'INSERT INTO ryw_probe VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET v = ryw_probe.v + 1',
        ),
      );
      expect(state.minLsn.main).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      await expect(servedBy()).resolves.toBe('primary');
      await setReplay(false);
      // Replay resumes in milliseconds; the next poll or live check sees it.
      let target = 'primary';
      for (let i = 0; i < 50 && target === 'primary'; i++) {
        target = await servedBy();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(target).toBe('replica');
    });
  });

  it('serves callers without writes from a replica even while replay is paused', async () => {
    await setReplay(true);
    try {
      await expect(ConsistencyContext.run({ minLsn: {} }, servedBy)).resolves.toBe('replica');
    } finally {
      await setReplay(false);
    }
  });
});
