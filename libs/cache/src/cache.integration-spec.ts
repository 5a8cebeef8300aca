import { testTopology, waitFor } from '@murmur/testing';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { Cache } from './cache';
import { cacheInvalidEntriesTotal } from './cache.metrics';
import type { CacheOptions } from './cache-options';
import { InvalidationBus } from './invalidation-bus';
import { DEFAULT_MEMCACHED_CLUSTER, MemcachedCluster } from './memcached-cluster';
import { MemcachedRemoteCache } from './memcached-remote-cache';
import { RedisTags } from './redis-tags';

interface Item {
  v: string;
  ver: number;
}

const itemSchema: z.ZodType<Item> = z.object({ v: z.string(), ver: z.number() });

type Backend = 'redis' | 'memcached';
const topology = testTopology();
const cachePort = topology.redis.find((r) => r.purpose === 'cache')?.port ?? 0;
const memcachedServers = topology.memcached.map((m) => `127.0.0.1:${m.port}`);

/**
 * One "process" of a backend: its own connections (Redis for tags and the bus either way, and
 * with Memcached its own node connections), the L2 options its caches get, and a raw read of an
 * entry in L2 for the assertions.
 */
class Proc {
  readonly redis = new Redis(cachePort, '127.0.0.1');
  readonly bus = new InvalidationBus(this.redis);
  private readonly cluster?: MemcachedCluster;

  constructor(readonly backend: Backend) {
    if (backend === 'memcached') {
      this.cluster = new MemcachedCluster({
        ...DEFAULT_MEMCACHED_CLUSTER,
        servers: memcachedServers,
      });
    }
  }

  l2(name: string): Pick<CacheOptions<Item>, 'l2' | 'remote' | 'schema'> {
    const cluster = this.cluster;
    return cluster
      ? {
          remote: new MemcachedRemoteCache<Item>({
            name,
            cluster,
            tags: RedisTags.forEntriesElsewhere(this.redis, name),
            schema: itemSchema,
          }),
        }
      : { l2: this.redis, schema: itemSchema };
  }

  /** The raw entry of `key` in L2 (null when absent). */
  async peek(name: string, key: string): Promise<string | null> {
    const k = `cache:${name}:${key}`;
    const node = this.cluster?.nodeFor(k);
    if (!this.cluster || node === undefined) {
      return this.redis.get(k);
    }
    const items = await this.cluster.run(node, (c) => c.values(`get ${k}`));
    return items.get(k)?.value ?? null;
  }

  /** Write `raw` as the entry of `key` straight into L2, as anyone who reaches the store can. */
  async poke(name: string, key: string, raw: string): Promise<void> {
    const k = `cache:${name}:${key}`;
    const node = this.cluster?.nodeFor(k);
    if (!this.cluster || node === undefined) {
      await this.redis.set(k, raw, 'EX', 60);
      return;
    }
    const bytes = Buffer.byteLength(raw);
    await this.cluster.run(node, (c) => c.line(`set ${k} 0 60 ${bytes}`, raw));
  }

  async close(): Promise<void> {
    this.cluster?.close();
    await this.redis.quit();
  }
}

/**
 * Two caches with their own buses stand for two processes sharing the real L2, once on the
 * cache Redis and once on the test stack's three Memcached nodes: the same behaviour on both.
 */
describe.each<Backend>(['redis', 'memcached'])(
  `${Cache.name} (real %s L2, two processes)`,
  (backend) => {
    const name = `it-${backend}-${process.pid}`;
    const procA = new Proc(backend);
    const procB = new Proc(backend);
    const { redis: redisA, bus: busA } = procA;
    const { bus: busB } = procB;
    const make = (proc: Proc, bus: InvalidationBus): Cache<Item> =>
      new Cache<Item>({
        name,
        ttlSeconds: 60,
        negativeTtlSeconds: 5,
        l1: { enabled: true, maxEntries: 100 },
        ...proc.l2(name),
        bus,
        versionOf: (x) => x.ver,
      });
    let a: Cache<Item>;
    let b: Cache<Item>;

    beforeAll(async () => {
      await Promise.all([busA.start(), busB.start()]);
      a = make(procA, busA);
      b = make(procB, busB);
    });

    afterAll(async () => {
      await Promise.all([busA.stop(), busB.stop()]);
      await Promise.all([procA.close(), procB.close()]);
    });

    it('serves the second process from L2 after the first loaded', async () => {
      let loads = 0;
      const loader = (): Promise<Item> => Promise.resolve({ v: `load-${++loads}`, ver: 1 });
      await expect(a.getOrSet('shared', loader)).resolves.toEqual({ v: 'load-1', ver: 1 });
      await expect(b.getOrSet('shared', loader)).resolves.toEqual({ v: 'load-1', ver: 1 });
      expect(loads).toBe(1);
    });

    // How fast the broadcast arrives is measured by `npm run bench:cache` (section 7), not asserted
    // here (a busy 2-core machine swings); here: it arrives, long before the 60 s TTL would have
    // ended B's copy.
    it('invalidates the other process’s L1 on a write-through, by broadcast rather than TTL', async () => {
      await a.getOrSet('k', () => Promise.resolve({ v: 'old', ver: 1 }));
      await b.getOrSet('k', () => Promise.resolve({ v: 'never', ver: 0 }));
      await a.set('k', { v: 'new', ver: 2 });
      await waitFor(
        async () =>
          (await b.getOrSet('k', () => Promise.resolve(null)))?.v === 'new' ? true : undefined,
        { timeoutMs: 5_000, intervalMs: 2, what: 'process B to see the new value' },
      );
    });

    it('never lets a slow reader put an older version back over a write-through', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let loading!: () => void;
      const loadStarted = new Promise<void>((r) => (loading = r));
      const slow = make(procB, new InvalidationBus());
      // Another process misses, and loads v1 from a lagging replica …
      const reading = slow.getOrSet('race', async () => {
        loading();
        await gate;
        return { v: 'v1', ver: 1 };
      });
      await loadStarted;
      // … while the owner writes v2 through the cache …
      await a.set('race', { v: 'v2', ver: 2 });
      // … and only then finishes its load: its L2 write must lose.
      release();
      await reading;
      const fresh = make(procA, new InvalidationBus());
      await expect(fresh.getOrSet('race', () => Promise.resolve(null))).resolves.toEqual({
        v: 'v2',
        ver: 2,
      });
    });

    it('invalidates a tag in L2 and in the other process’s L1 by broadcast, and removes the tag set', async () => {
      const tag = `author-${Date.now()}`;
      await a.set('t1', { v: 'one', ver: 1 }, { tags: [tag] });
      await a.set('t2', { v: 'two', ver: 1 }, { tags: [tag] });
      await expect(b.getOrSet('t1', () => Promise.resolve(null))).resolves.toEqual({
        v: 'one',
        ver: 1,
      });
      // Tags are kept in the cache Redis on both backends (Memcached has no sets).
      const tagSet = `cache-tag:${name}:${tag}`;
      await expect(redisA.scard(tagSet)).resolves.toBe(2);
      expect(await redisA.ttl(tagSet)).toBeGreaterThan(60);
      await a.invalidateTag(tag);
      await waitFor(
        async () =>
          (await b.getOrSet('t1', () => Promise.resolve({ v: 'reloaded', ver: 2 })))?.v ===
          'reloaded'
            ? true
            : undefined,
        { timeoutMs: 5_000, intervalMs: 2, what: 'process B to reload t1' },
      );
      await expect(redisA.exists(tagSet)).resolves.toBe(0);
      await expect(procA.peek(name, 't2')).resolves.toBeNull();
    });

    const invalidCount = async (reason: string): Promise<number> =>
      (await cacheInvalidEntriesTotal.get()).values.find(
        (v) => v.labels.cache === name && v.labels.reason === reason,
      )?.value ?? 0;

    it.each([
      ['a wrong type in the value', 'shape', { v: { v: 42, ver: 1, isAdmin: true }, ver: 1 }],
      ['a missing field', 'shape', { v: { ver: 1 }, ver: 1 }],
      // A huge `ver` would make the version guard keep the poison for ever: it is deleted first.
      ['a valid value under a bad envelope', 'shape', { v: { v: 'x', ver: 1 }, ver: 'lots' }],
      ['a wrong type with a huge version', 'shape', { v: { v: 1, ver: 1 }, ver: 9e15 }],
      ['malformed JSON', 'json', '{"v":'],
    ])('reads %s in L2 as a miss: loads, replaces the entry, counts it', async (_, reason, bad) => {
      const key = `poisoned-${reason}-${Math.random()}`;
      await procA.poke(name, key, typeof bad === 'string' ? bad : JSON.stringify(bad));
      const before = await invalidCount(reason);
      let loads = 0;
      const loader = (): Promise<Item> => Promise.resolve({ v: `real-${++loads}`, ver: 1 });
      const fresh = make(procB, new InvalidationBus());
      await expect(fresh.getOrSet(key, loader)).resolves.toEqual({ v: 'real-1', ver: 1 });
      expect(loads).toBe(1);
      expect(await invalidCount(reason)).toBe(before + 1);
      const stored = JSON.parse((await procA.peek(name, key)) ?? 'null') as { v: unknown };
      expect(stored.v).toEqual({ v: 'real-1', ver: 1 });
      // The replaced entry is served to another process without a load.
      const other = make(procA, new InvalidationBus());
      await expect(other.getOrSet(key, loader)).resolves.toEqual({ v: 'real-1', ver: 1 });
      expect(loads).toBe(1);
    });

    it('refuses a poisoned entry in a multi-get and loads only that key', async () => {
      const [good, bad] = [`mg-good-${Math.random()}`, `mg-bad-${Math.random()}`];
      await procA.poke(name, good, JSON.stringify({ v: { v: 'cached', ver: 1 }, ver: 1 }));
      await procA.poke(name, bad, JSON.stringify({ v: { v: ['x'], ver: 1 }, ver: 1 }));
      const asked: string[][] = [];
      const fresh = make(procB, new InvalidationBus());
      const found = await fresh.getMany([good, bad], (missing) => {
        asked.push(missing);
        return Promise.resolve(new Map(missing.map((k) => [k, { v: 'loaded', ver: 1 }])));
      });
      expect(asked).toEqual([[bad]]);
      expect(found.get(good)).toEqual({ v: 'cached', ver: 1 });
      expect(found.get(bad)).toEqual({ v: 'loaded', ver: 1 });
      expect(JSON.parse((await procA.peek(name, bad)) ?? 'null')).toMatchObject({
        v: { v: 'loaded', ver: 1 },
      });
    });

    it('refreshes a hot key early in one process only; the other adopts the refreshed value', async () => {
      // A shared fake clock and a certain XFetch roll: both processes decide to refresh at once.
      let clock = Date.now();
      const earlyName = `it-early-${backend}-${process.pid}`;
      const early = (proc: Proc): Cache<Item> =>
        new Cache<Item>({
          name: earlyName,
          ttlSeconds: 60,
          negativeTtlSeconds: 0,
          l1: { enabled: true, maxEntries: 10 },
          ...proc.l2(earlyName),
          now: () => clock,
          random: () => 1e-9,
        });
      const [p1, p2] = [early(procA), early(procB)];
      let loads = 0;
      const loader = (): Promise<Item> => {
        loads++;
        clock += 1_000; // a load takes 1 s of the fake clock
        return Promise.resolve({ v: `v${loads}`, ver: loads });
      };
      await p1.getOrSet('hot', loader);
      await expect(p2.getOrSet('hot', loader)).resolves.toEqual({ v: 'v1', ver: 1 });
      await new Promise((r) => setTimeout(r, 20));
      expect(loads).toBe(1); // far from expiry: no early refresh yet
      // 50 s on, within 1 s × 20.7 (−ln 1e-9) of the expiry (54–66 s): both want to refresh.
      clock += 50_000;
      const reads = await Promise.all([p1.getOrSet('hot', loader), p2.getOrSet('hot', loader)]);
      expect(reads).toEqual([
        { v: 'v1', ver: 1 },
        { v: 'v1', ver: 1 },
      ]);
      await waitFor(
        async () => ((await procA.peek(earlyName, 'hot'))?.includes('v2') ? true : undefined),
        { timeoutMs: 1_000, intervalMs: 5, what: 'the early refresh to reach L2' },
      );
      await new Promise((r) => setTimeout(r, 20));
      expect(loads).toBe(2); // one refresh for both processes, not one each
      // Both now serve v2: the winner from its own store, the other by adopting L2's newer value
      // on its next early-refresh check (its L1 still held v1), without loading.
      await Promise.all([p1.getOrSet('hot', loader), p2.getOrSet('hot', loader)]);
      await new Promise((r) => setTimeout(r, 20));
      await expect(p1.getOrSet('hot', loader)).resolves.toEqual({ v: 'v2', ver: 2 });
      await expect(p2.getOrSet('hot', loader)).resolves.toEqual({ v: 'v2', ver: 2 });
      expect(loads).toBe(2);
    });
  },
);
