import type { JobItem, NewEvent } from '@murmur/contracts';
import { createDataSource, MAIN_MIGRATIONS, ReplicatedCluster } from '@murmur/database';
import { superuser, testTopology, withPostgres } from '@murmur/testing';
import type { DataSource } from 'typeorm';
import { type JobPublisher, OutboxRelay } from './outbox-relay';
import { appendEvents } from './outbox.repository';

/** Records what it was asked to publish; can be told to fail (a queue that is down). */
class RecordingPublisher implements JobPublisher {
  readonly published: JobItem[] = [];
  failing = false;

  publish(job: JobItem): Promise<void> {
    if (this.failing) {
      return Promise.reject(new Error('queue down'));
    }
    this.published.push(job);
    return Promise.resolve();
  }
}

/**
 * The relay against a real Postgres (a scratch database on the test stack's main primary, so the
 * stack's own relays never touch these rows): claim, publish, mark sent; failures leave events
 * for the next pass; two relays never publish one event twice.
 */
describe(`${OutboxRelay.name} (real Postgres)`, () => {
  const primary = testTopology().postgres.find((n) => n.cluster === 'main' && n.role === 'primary');
  const database = `outbox_relay_${process.pid}`;
  let ds: DataSource;
  let cluster: ReplicatedCluster;
  const options = {
    OUTBOX_POLL_MS: 60_000,
    OUTBOX_BATCH: 3,
    OUTBOX_RETAIN_HOURS: 0,
    OUTBOX_FLUSH_WAIT_MS: 250,
  };
  const follow = (n: number): NewEvent => ({
    name: 'user.followed',
    payload: { followerId: String(n), followeeId: String(n + 1) },
  });
  const unsent = async (): Promise<number> =>
    (
      await ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL',
      )
    )[0].n;

  beforeAll(async () => {
    await withPostgres(primary?.name ?? '', 'postgres', (c) =>
      c.query(`CREATE DATABASE ${database}`),
    );
    ds = createDataSource({
      url: `postgres://${superuser()}@127.0.0.1:${primary?.port}/${database}`,
      name: 'outbox-relay-spec',
      poolSize: 4,
      migrations: MAIN_MIGRATIONS,
    });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    cluster = new ReplicatedCluster('main', ds, [], { replicasEnabled: false, pollMs: 100 });
  });

  afterAll(async () => {
    await ds.destroy();
    await withPostgres(primary?.name ?? '', 'postgres', (c) =>
      c.query(`DROP DATABASE ${database} WITH (FORCE)`),
    );
  });

  beforeEach(() => ds.query('TRUNCATE outbox'));

  it('publishes every committed event once, in batches, as jobs whose id is the event id', async () => {
    await cluster.primaryTransaction((sql) =>
      appendEvents(sql, 'main', [1, 2, 3, 4, 5, 6, 7].map(follow)),
    );
    const publisher = new RecordingPublisher();
    const sut = new OutboxRelay([{ name: 'main', cluster }], publisher, options);
    await expect(sut.drain()).resolves.toBe(7);
    const expected: unknown[] = [1, 2, 3, 4, 5, 6, 7].map((n) => ({
      ...follow(n).payload,
      version: expect.any(String) as unknown,
    }));
    expect(publisher.published.map((j) => j.data)).toEqual(expected);
    const ids = publisher.published.map((j) => j.jobId);
    expect(new Set(ids).size).toBe(7);
    ids.forEach((id) => expect(id).toMatch(/^evt-main-\d+$/));
    await expect(unsent()).resolves.toBe(0);
    await expect(sut.drain()).resolves.toBe(0);
  });

  it('leaves a batch unsent when publishing fails, and delivers it on a later pass', async () => {
    await cluster.primaryTransaction((sql) => appendEvents(sql, 'main', [1, 2].map(follow)));
    const publisher = new RecordingPublisher();
    publisher.failing = true;
    const sut = new OutboxRelay([{ name: 'main', cluster }], publisher, options);
    await expect(sut.drain()).rejects.toThrow('queue down');
    await expect(unsent()).resolves.toBe(2);
    publisher.failing = false;
    await expect(sut.drain()).resolves.toBe(2);
    await expect(unsent()).resolves.toBe(0);
  });

  it("publishes a write's own events after its commit, and leaves them to a poll when it cannot", async () => {
    const publisher = new RecordingPublisher();
    const sut = new OutboxRelay([{ name: 'main', cluster }], publisher, options);
    const first = await cluster.primaryTransaction((sql) => appendEvents(sql, 'main', [follow(1)]));
    await sut.publish(first);
    expect(publisher.published.map((j) => j.jobId)).toEqual([first[0].id]);
    await expect(unsent()).resolves.toBe(0);

    // The queue is down: the write goes on, the event stays owed and a poll delivers it.
    const second = await cluster.primaryTransaction((sql) =>
      appendEvents(sql, 'main', [follow(2)]),
    );
    publisher.failing = true;
    await expect(sut.publish(second)).resolves.toBeUndefined();
    await expect(unsent()).resolves.toBe(1);
    publisher.failing = false;
    await expect(sut.drain()).resolves.toBe(1);
    expect(publisher.published.map((j) => j.jobId)).toEqual([first[0].id, second[0].id]);
  });

  it('does not publish an event that never committed', async () => {
    await expect(
      cluster.primaryTransaction(async (sql) => {
        await appendEvents(sql, 'main', [follow(1)]);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    const publisher = new RecordingPublisher();
    await expect(
      new OutboxRelay([{ name: 'main', cluster }], publisher, options).drain(),
    ).resolves.toBe(0);
  });

  it('lets concurrent relays share the backlog without publishing any event twice', async () => {
    const n = 60;
    await cluster.primaryTransaction((sql) =>
      appendEvents(
        sql,
        'main',
        Array.from({ length: n }, (_, i) => follow(i)),
      ),
    );
    const publisher = new RecordingPublisher();
    const relays = [1, 2, 3].map(
      () => new OutboxRelay([{ name: 'main', cluster }], publisher, options),
    );
    const counts = await Promise.all(relays.map((r) => r.drain()));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(n);
    const ids = publisher.published.map((j) => j.jobId);
    expect(ids).toHaveLength(n);
    expect(new Set(ids).size).toBe(n);
  });
});
