import { startMemcachedNodes, type MemcachedNodes, waitFor } from '@murmur/testing';
import type { CacheEntry } from './cache-entry';
import { DEFAULT_MEMCACHED_CLUSTER, MemcachedCluster } from './memcached-cluster';
import { MemcachedRemoteCache } from './memcached-remote-cache';
import { FakeRemoteCache } from './remote-cache.spec-helper';

type Value = { v: string };

// Generous for a shared 2-core machine under the whole suite: the claims are "fails at once" (well
// under it) and "waits at most about this long", not a tight latency.
const TIMEOUT_MS = 250;
const RETRY_MS = 500;

/**
 * The adapter on three real memcached processes this spec starts itself (free ports, no stack):
 * compare-and-set, add, multi-get and TTLs on the wire, and what a node lost or hung costs.
 */
describe(`${MemcachedRemoteCache.name} (real memcached, three nodes)`, () => {
  let nodes: MemcachedNodes;
  const clusters: MemcachedCluster[] = [];
  const cluster = (): MemcachedCluster => {
    const c = new MemcachedCluster({
      ...DEFAULT_MEMCACHED_CLUSTER,
      servers: nodes.servers,
      timeoutMs: TIMEOUT_MS,
      retryMs: RETRY_MS,
    });
    clusters.push(c);
    return c;
  };
  const adapter = (
    c: MemcachedCluster,
    name = `it-mc-${process.pid}`,
  ): MemcachedRemoteCache<Value> =>
    new MemcachedRemoteCache<Value>({ name, cluster: c, tags: new FakeRemoteCache<Value>() });
  const entry = (v: string, ver: number, exp = 0): CacheEntry<Value> => ({ v: { v }, ver, exp });
  const itemsOn = async (c: MemcachedCluster, node: string): Promise<number> =>
    Number((await c.stats(node)).get('curr_items'));

  beforeAll(async () => {
    nodes = await startMemcachedNodes(3);
  });

  afterAll(async () => {
    clusters.forEach((c) => c.close());
    await nodes.stop();
  });

  it('stores an entry in whole seconds unless a newer version is cached', async () => {
    const c = cluster();
    const sut = adapter(c);
    await expect(sut.setIfNewer('a', entry('v2', 2), 1.5)).resolves.toBe('stored');
    await expect(sut.setIfNewer('a', entry('v1', 1), 60)).resolves.toBe('kept');
    await expect(sut.get('a')).resolves.toEqual({ ok: entry('v2', 2) });
    // meta get with `t`: the seconds left; 1.5 s was rounded up to 2
    const k = `cache:it-mc-${process.pid}:a`;
    const ttl = await c.run(c.nodeFor(k) ?? '', (conn) => conn.line(`mg ${k} t`));
    expect(ttl).toMatch(/^HD t[12]$/);
    await expect(sut.setIfNewer('a', entry('v3', 3), 60)).resolves.toBe('stored');
    await expect(sut.get('a')).resolves.toEqual({ ok: entry('v3', 3) });
  });

  it('never leaves an older version over a newer one when many processes write at once (gets/cas)', async () => {
    const writers = [cluster(), cluster(), cluster()].map((c) => adapter(c));
    let kept = 0;
    for (let round = 0; round < 5; round++) {
      const key = `race-${round}`;
      const versions = Array.from({ length: 30 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
      await Promise.all(
        versions.map((ver, i) => writers[i % 3].setIfNewer(key, entry(`v${ver}`, ver), 60)),
      );
      // the newest, or (the rare writer that lost every round dropped it) nothing: never older
      const got = await writers[0].get(key);
      expect([null, 30]).toContain(got?.ok === null ? null : got?.ok.ver);
      kept += got?.ok ? 1 : 0;
    }
    expect(kept).toBeGreaterThan(0);
  });

  it('spreads keys over every node and reads them back in one multi-get per node', async () => {
    const c = cluster();
    const sut = adapter(c, `it-mc-spread-${process.pid}`);
    const before = await Promise.all(nodes.servers.map((n) => itemsOn(c, n)));
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((k) => sut.setIfNewer(k, entry(k, 1), 60)));
    const after = await Promise.all(nodes.servers.map((n) => itemsOn(c, n)));
    after.forEach((n, i) => expect(n - before[i]).toBeGreaterThan(60));
    const read = await sut.getMany([...keys, 'none']);
    expect(read?.ok).toEqual([...keys.map((k) => entry(k, 1)), null]);
  });

  it('deletes keys on whichever nodes hold them', async () => {
    const sut = adapter(cluster());
    await Promise.all(['d1', 'd2', 'd3'].map((k) => sut.setIfNewer(k, entry(k, 1), 60)));
    await expect(sut.delete(['d1', 'd2', 'd3'])).resolves.toBe(true);
    await expect(sut.getMany(['d1', 'd2', 'd3'])).resolves.toEqual({ ok: [null, null, null] });
  });

  it('leases an early refresh to one caller (add), unless a newer entry is cached', async () => {
    const [one, two] = [adapter(cluster()), adapter(cluster())];
    await one.setIfNewer('hot', entry('v1', 1, 10_000), 60);
    await expect(one.lease('hot', 10_000, 1_000)).resolves.toEqual({ ok: 'won' });
    await expect(two.lease('hot', 10_000, 1_000)).resolves.toEqual({ ok: 'busy' });
    await two.setIfNewer('hot', entry('v2', 2, 20_000), 60);
    await expect(one.lease('hot', 10_000, 1_000)).resolves.toEqual({ ok: entry('v2', 2, 20_000) });
  });

  it('pops a tag from the tag store and deletes its entries here', async () => {
    const tags = new FakeRemoteCache<Value>();
    const sut = new MemcachedRemoteCache<Value>({
      name: `it-mc-tags-${process.pid}`,
      cluster: cluster(),
      tags,
    });
    for (const key of ['t1', 't2']) {
      await sut.setIfNewer(key, entry(key, 1), 60);
      await sut.addTags(key, ['tag'], 60);
    }
    const popped = await sut.popTag('tag', 10);
    expect(popped?.ok.sort()).toEqual(['t1', 't2']);
    await expect(sut.getMany(['t1', 't2'])).resolves.toEqual({ ok: [null, null] });
  });

  it('stores keys Memcached would refuse (spaces, over 250 bytes) under a hash, in any namespace', async () => {
    const c = cluster();
    for (const sut of [adapter(c), adapter(c, 'a name with spaces')]) {
      const keys = ['with spaces', 'x'.repeat(300), 'plain'];
      await Promise.all(keys.map((k) => sut.setIfNewer(k, entry(k, 1), 60)));
      await expect(sut.getMany(keys)).resolves.toEqual({ ok: keys.map((k) => entry(k, 1)) });
    }
  });

  it('does not count an error answer against the node (it answered)', async () => {
    const c = cluster();
    const node = nodes.servers[0];
    for (let i = 0; i < 5; i++) {
      await expect(c.run(node, (conn) => conn.line('no_such_command'))).rejects.toThrow(/ERROR/);
    }
    expect(c.isDown(node)).toBe(false);
  });

  describe('a node lost', () => {
    it('fails fast, remaps its keys (about a third), and the hit ratio recovers', async () => {
      const c = cluster();
      const sut = adapter(c, `it-mc-loss-${process.pid}`);
      const keys = Array.from({ length: 600 }, (_, i) => `user:${i}`);
      /** One read-through round over every key: the hit ratio, and the slowest call (ms). */
      const round = async (): Promise<{ hits: number; slowestMs: number }> => {
        let hits = 0;
        let slowestMs = 0;
        for (const key of keys) {
          const t0 = performance.now();
          const got = await sut.get(key);
          if (got?.ok) {
            hits++;
          } else {
            await sut.setIfNewer(key, entry(key, 1), 60);
          }
          slowestMs = Math.max(slowestMs, performance.now() - t0);
        }
        return { hits: hits / keys.length, slowestMs };
      };
      await round();
      expect((await round()).hits).toBe(1);

      const lost = 1;
      const server = nodes.servers[lost];
      const home = keys.filter(
        (k) => c.ring.nodeFor(`cache:it-mc-loss-${process.pid}:${k}`) === server,
      );
      await nodes.kill(lost);
      const dip = await round();
      expect(c.isDown(server)).toBe(true);
      // only the lost node's keys missed: about a third
      expect(dip.hits).toBeCloseTo(1 - home.length / keys.length, 5);
      expect(home.length / keys.length).toBeGreaterThan(0.2);
      expect(home.length / keys.length).toBeLessThan(0.45);
      // a refused connection fails at once, and once marked down the node is not even tried
      expect(dip.slowestMs).toBeLessThan(TIMEOUT_MS);
      // The keys now live on the other two nodes: every read hits again, but for the one or
      // two whose calls marked the node down (they were not written in the dip).
      expect((await round()).hits).toBeGreaterThan(0.99);
      expect((await round()).hits).toBe(1);

      // Back (empty): it rejoins after a retry, its keys go home, miss once, and the copies the
      // other nodes held meanwhile are deleted (they must not resurface at the next failure).
      await nodes.restart(lost);
      await new Promise((r) => setTimeout(r, RETRY_MS * 3));
      expect(c.isDown(server)).toBe(false);
      const other =
        c.ring.nodeFor(`cache:it-mc-loss-${process.pid}:${home[0]}`, (n) => n === server) ?? '';
      const k = `cache:it-mc-loss-${process.pid}:${home[0]}`;
      await expect(c.run(other, (conn) => conn.values(`get ${k}`))).resolves.toEqual(new Map());
      expect((await round()).hits).toBeCloseTo(1 - home.length / keys.length, 5);
      expect((await round()).hits).toBe(1);
    });

    it('marks a hung node down after a bounded wait, and flushes it before it rejoins', async () => {
      const c = cluster();
      const sut = adapter(c, `it-mc-hung-${process.pid}`);
      const hung = 2;
      const server = nodes.servers[hung];
      const key = Array.from({ length: 100 }, (_, i) => `h${i}`).find(
        (k) => c.ring.nodeFor(`cache:it-mc-hung-${process.pid}:${k}`) === server,
      ) as string;
      // Written on the node about to hang, not on a stand-in: on a loaded machine a first call
      // can miss its 250 ms and mark the node down for a while, so write until it is there.
      const stored = `cache:it-mc-hung-${process.pid}:${key}`;
      await waitFor(
        async () => {
          await sut.setIfNewer(key, entry('before', 1), 60);
          const there = await c
            .run(server, (conn) => conn.values(`get ${stored}`))
            .catch(() => null);
          return !c.isDown(server) && there?.size === 1 ? true : undefined;
        },
        { timeoutMs: 5_000, what: `the entry on ${server}` },
      );
      await nodes.pause(hung);
      try {
        const t0 = performance.now();
        // Each call waits for its timeout, until the node is marked down …
        await expect(sut.get(key)).resolves.toBeUndefined();
        await expect(sut.get(key)).resolves.toBeUndefined();
        expect(performance.now() - t0).toBeLessThan(2 * TIMEOUT_MS + 100);
        expect(c.isDown(server)).toBe(true);
        // … then its keys go elsewhere at once; a write-through meanwhile lands there.
        const t1 = performance.now();
        await expect(sut.get(key)).resolves.toEqual({ ok: null });
        expect(performance.now() - t1).toBeLessThan(TIMEOUT_MS);
        await sut.setIfNewer(key, entry('during', 2), 60);
      } finally {
        nodes.resume(hung);
      }
      await new Promise((r) => setTimeout(r, RETRY_MS * 3));
      expect(c.isDown(server)).toBe(false);
      // It kept 'before', older than the write it missed: flushed on rejoin, so a miss, not stale.
      await expect(sut.get(key)).resolves.toEqual({ ok: null });
    });
  });
});
