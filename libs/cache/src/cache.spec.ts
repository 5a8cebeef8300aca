import { cacheHitRatio, cacheStaleServedTotal } from './cache.metrics';
import { Cache } from './cache';
import type { CacheOptions } from './cache-options';
import { FakeRemoteCache } from './remote-cache.spec-helper';

type Value = { v: number };

/** A cache with test defaults (L1 only, 60 s, no negative caching), overridden per test. */
const cacheOf = <V = Value>(options: Partial<CacheOptions<V>> = {}): Cache<V> =>
  new Cache<V>({
    name: 'test',
    ttlSeconds: 60,
    negativeTtlSeconds: 0,
    l1: { enabled: true, maxEntries: 10 },
    ...options,
  });

/** One process's cache over a shared remote layer. */
const withRemote = (remote: FakeRemoteCache<Value>, l1 = false): Cache<Value> =>
  cacheOf({ negativeTtlSeconds: 5, l1: { enabled: l1, maxEntries: 100 }, remote });

/** Refresh-ahead in the last 30% of a 10 s TTL, XFetch off, on an injected clock. */
const refreshingAhead = (now: () => number, name = 'test'): Cache<Value> =>
  cacheOf({
    name,
    ttlSeconds: 10,
    l1: { enabled: true, maxEntries: 10, ttlSeconds: 3600 },
    xfetchBeta: 0,
    refreshAheadRatio: 0.3,
    now,
  });

/** A loader that counts its calls and answers 1, 2, 3 … */
const counting = (): { loader: () => Promise<Value>; loads: () => number } => {
  let loads = 0;
  return { loader: () => Promise.resolve({ v: ++loads }), loads: () => loads };
};

/** A promise that stays pending until `release` is called. */
const gate = (): { wait: Promise<void>; release: () => void } => {
  let release!: () => void;
  const wait = new Promise<void>((r) => (release = r));
  return { wait, release };
};

describe(Cache.name, () => {
  it('loads a cold key once for many concurrent readers (single flight)', async () => {
    const sut = cacheOf();
    let loads = 0;
    const { wait, release } = gate();
    const loader = async (): Promise<Value> => {
      loads++;
      await wait;
      return { v: 1 };
    };
    const reads = Array.from({ length: 500 }, () => sut.getOrSet('k', loader));
    release();
    const values = await Promise.all(reads);
    expect(loads).toBe(1);
    expect(values.every((x) => x?.v === 1)).toBe(true);
  });

  it('serves later reads from L1 and replaces a value on write-through', async () => {
    const sut = cacheOf();
    const { loader, loads } = counting();
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 1 });
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 1 });
    await sut.set('k', { v: 9 });
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 9 });
    expect(loads()).toBe(1);
  });

  it('keeps a newer L1 value when a refresh read an older version (a lagging replica)', async () => {
    type Versioned = { v: number; at: number };
    const sut = cacheOf<Versioned>({ versionOf: (x) => x.at });
    await sut.set('k', { v: 5, at: 500 });
    await expect(sut.refresh('k', () => Promise.resolve({ v: 4, at: 400 }))).resolves.toEqual({
      v: 4,
      at: 400,
    });
    await expect(sut.getOrSet('k', () => Promise.resolve(null))).resolves.toEqual({
      v: 5,
      at: 500,
    });
    await sut.set('k', { v: 6, at: 600 });
    await expect(sut.getOrSet('k', () => Promise.resolve(null))).resolves.toEqual({
      v: 6,
      at: 600,
    });
  });

  it('does not pin in L1 a refreshed value that L2 refused as older than its own', async () => {
    type Versioned = { v: number; at: number };
    const remote = new FakeRemoteCache<Versioned>();
    const processOf = () =>
      cacheOf<Versioned>({ remote, versionOf: (x) => x.at, l1: { enabled: true, maxEntries: 10 } });
    const [writer, reader] = [processOf(), processOf()];
    await writer.set('k', { v: 5, at: 500 });
    // the reader's L1 has nothing; its refresh reads a replica still at version 400
    await reader.refresh('k', () => Promise.resolve({ v: 4, at: 400 }));
    expect(remote.entries.get('k')?.v).toEqual({ v: 5, at: 500 });
    await expect(reader.getOrSet('k', () => Promise.resolve(null))).resolves.toEqual({
      v: 5,
      at: 500,
    });
  });

  it('reloads after a delete, after clearing L1, and when asked to bypass L1', async () => {
    const sut = cacheOf();
    const { loader } = counting();
    await sut.getOrSet('k', loader);
    await sut.delete('k');
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 2 });
    sut.clearLocal();
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 3 });
    await expect(sut.getOrSet('k', loader, { bypassL1: true })).resolves.toEqual({ v: 4 });
  });

  it('serves the next process from L2, and deletes there too, one key or many', async () => {
    const remote = new FakeRemoteCache<Value>();
    const { loader, loads } = counting();
    await withRemote(remote, true).getOrSet('k', loader);
    const sut = withRemote(remote, true);
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 1 });
    expect(loads()).toBe(1);
    await sut.delete('k');
    expect(remote.entries.has('k')).toBe(false);
    await sut.set('a', { v: 1 });
    await sut.set('b', { v: 2 });
    await sut.deleteMany(['a', 'b']);
    expect(remote.entries.size).toBe(0);
    await expect(sut.getOrSet('a', loader)).resolves.toEqual({ v: 2 });
  });

  it('answers from the source while L2 is unreachable, without waiting on L2 to store', async () => {
    const remote = new FakeRemoteCache<Value>();
    remote.down = true;
    const sut = withRemote(remote);
    await expect(sut.getOrSet('k', () => Promise.resolve({ v: 1 }))).resolves.toEqual({ v: 1 });
    expect(remote.calls).toEqual(['get']);
  });

  it('reports the remote breaker as its own', () => {
    const remote = new FakeRemoteCache<Value>();
    const sut = withRemote(remote);
    expect(sut.l2Open).toBe(false);
    remote.open = true;
    expect(sut.l2Open).toBe(true);
    expect(cacheOf().l2Open).toBe(false);
  });

  it('multi-gets with one MGET and one source call for the misses, then serves from L1', async () => {
    const remote = new FakeRemoteCache<Value>();
    await withRemote(remote, true).set('a', { v: 1 });
    const sut = withRemote(remote, true); // another process: empty L1, shared L2
    const asked: string[][] = [];
    const loadMissing = (missing: string[]): Promise<Map<string, Value>> => {
      asked.push(missing);
      return Promise.resolve(
        new Map(missing.filter((k) => k !== 'gone').map((k) => [k, { v: 2 }])),
      );
    };
    const first = await sut.getMany(['a', 'b', 'gone', 'b'], loadMissing);
    expect([...first.entries()]).toEqual([
      ['a', { v: 1 }],
      ['b', { v: 2 }],
      ['gone', null],
    ]);
    expect(asked).toEqual([['b', 'gone']]);
    expect(remote.callsTo('getMany')).toBe(1);
    const second = await sut.getMany(['a', 'b'], loadMissing);
    expect(second.get('b')).toEqual({ v: 2 });
    // Both from L1: no L2 call, no source call.
    expect(asked).toHaveLength(1);
    expect(remote.callsTo('getMany')).toBe(1);
    // "Not found" is not remembered by a multi-get (the id may be on a lagging replica).
    await sut.getMany(['gone'], loadMissing);
    expect(asked).toEqual([['b', 'gone'], ['gone']]);
  });

  it('refreshes a hot key early in the background (XFetch) and keeps serving the cached value', async () => {
    let now = 1_000_000;
    let roll = 0.5;
    const sut = cacheOf({
      ttlSeconds: 10,
      l1: { enabled: true, maxEntries: 10, ttlSeconds: 3600 },
      now: () => now,
      random: () => roll,
    });
    let loads = 0;
    const loader = (): Promise<Value> => {
      loads++;
      now += 1_000; // each load takes 1 s of the fake clock
      return Promise.resolve({ v: loads });
    };
    await sut.getOrSet('k', loader);
    // 10 s TTL (the roll of 0.5 puts the jitter in the middle) and 1 s loads:
    // -1000 * ln(0.5) ≈ 0.7 s ahead, too early 5 s before expiry.
    now += 5_000;
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 1 });
    expect(loads).toBe(1);
    // An unlucky roll (ln(1e-9) ≈ -20.7 → 20 s ahead) triggers one background load; readers keep
    // getting the cached value meanwhile and do not start a second load.
    roll = 1e-9;
    const reads = await Promise.all([sut.getOrSet('k', loader), sut.getOrSet('k', loader)]);
    expect(reads).toEqual([{ v: 1 }, { v: 1 }]);
    await new Promise((r) => setImmediate(r));
    expect(loads).toBe(2);
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 2 });
  });

  it('refreshes ahead in the last part of the TTL when refresh-ahead is on', async () => {
    let now = 0;
    const sut = refreshingAhead(() => now);
    const { loader, loads } = counting();
    await sut.getOrSet('k', loader);
    now = 5_000;
    await sut.getOrSet('k', loader);
    expect(loads()).toBe(1);
    now = 8_500; // within the last 30% whatever the ±10% jitter
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 1 });
    await new Promise((r) => setImmediate(r));
    expect(loads()).toBe(2);
  });

  it('jitters the TTL and versions values with the injected random source and clock', async () => {
    const remote = new FakeRemoteCache<Value>();
    const sut = cacheOf({ remote, now: () => 5_000, random: () => 0 });
    await sut.set('k', { v: 1 });
    expect(remote.ttls.get('k')).toBeCloseTo(54); // 60 s − 10%
    expect(remote.entries.get('k')).toEqual({ v: { v: 1 }, ver: 5_000, exp: 5_000 + 54_000 });
  });

  it('after an L2 outage, deletes in L2 what it could not write through', async () => {
    const remote = new FakeRemoteCache<Value>();
    const sut = withRemote(remote, true);
    await sut.set('k', { v: 1 });
    remote.down = true;
    await sut.set('k', { v: 2 }); // L2 keeps { v: 1 }: stale for every other process
    await sut.delete('j');
    expect(remote.entries.has('k')).toBe(true);
    remote.recover();
    await new Promise((r) => setImmediate(r));
    expect(remote.entries.has('k')).toBe(false);
    expect(remote.callsTo('delete')).toBe(2); // the failed delete of j, then one replay of both
  });

  it('invalidates every key of a tag, and only those', async () => {
    const sut = cacheOf();
    let loads = 0;
    const loader = (): Promise<Value> => Promise.resolve({ v: 100 + ++loads });
    await sut.set('post:1', { v: 1 }, { tags: ['author:a'] });
    await sut.set('post:2', { v: 2 }, { tags: ['author:a', 'topic:x'] });
    await sut.set('post:3', { v: 3 }, { tags: ['author:b'] });
    await sut.invalidateTag('author:a');
    await expect(sut.getOrSet('post:1', loader)).resolves.toEqual({ v: 101 });
    await expect(sut.getOrSet('post:2', loader)).resolves.toEqual({ v: 102 });
    await expect(sut.getOrSet('post:3', loader)).resolves.toEqual({ v: 3 });
    // post:2 left topic:x with its invalidation: invalidating it again costs nothing.
    await sut.invalidateTag('topic:x');
    await expect(sut.getOrSet('post:2', loader)).resolves.toEqual({ v: 102 });
  });

  it('invalidates a tag in L2, where another process sees when it happened', async () => {
    const remote = new FakeRemoteCache<Value>();
    let clock = 10_000;
    const now = (): number => clock;
    const sut = cacheOf({ remote, now });
    await sut.set('t1', { v: 1 }, { tags: ['author:1'] });
    expect([...(remote.tagSets.get('author:1') ?? [])]).toEqual(['t1']);
    await sut.invalidateTag('author:1');
    expect(remote.entries.has('t1')).toBe(false);
    // Another process loads the key just after: it may have read a lagging replica, so it is
    // served but not cached, until the grace has passed.
    const other = cacheOf({ remote, now });
    const { loader, loads } = counting();
    clock += 500;
    await other.getOrSet('t1', loader, { tags: ['author:1'] });
    await other.getOrSet('t1', loader, { tags: ['author:1'] });
    expect(loads()).toBe(2);
    clock += 1_000;
    await other.getOrSet('t1', loader, { tags: ['author:1'] });
    await other.getOrSet('t1', loader, { tags: ['author:1'] });
    expect(loads()).toBe(3);
  });

  it('does not keep an L2 "not found" in L1 beyond the negative TTL', async () => {
    const remote = new FakeRemoteCache<Value>();
    const writer = withRemote(remote, true);
    const reader = withRemote(remote, true);
    await writer.getOrSet('new-row', () => Promise.resolve(null)); // lagging replica: not found
    await expect(reader.getOrSet('new-row', () => Promise.resolve({ v: 1 }))).resolves.toBeNull();
    remote.entries.clear(); // the negative entry expires in L2
    await expect(reader.getOrSet('new-row', () => Promise.resolve({ v: 1 }))).resolves.toEqual({
      v: 1,
    });
  });

  it('does not cache a tagged load that may predate an invalidation of its tag', async () => {
    let clock = 10_000;
    const sut = cacheOf({ tagGraceMs: 1_000, now: () => clock });
    let loads = 0;
    const { wait, release } = gate();
    const slow = async (): Promise<Value> => {
      loads++;
      await wait;
      return { v: loads };
    };
    const pending = sut.getOrSet('page', slow, { tags: ['author:1'] });
    await sut.invalidateTag('author:1'); // the change lands while the load is in flight
    release();
    await expect(pending).resolves.toEqual({ v: 1 });
    // Served, not cached: the next read loads again. Still within the grace: not cached either.
    clock += 500;
    await sut.getOrSet('page', slow, { tags: ['author:1'] });
    expect(loads).toBe(2);
    // Past the grace a load is cached as usual.
    clock += 1_000;
    await sut.getOrSet('page', slow, { tags: ['author:1'] });
    await sut.getOrSet('page', slow, { tags: ['author:1'] });
    expect(loads).toBe(3);
  });

  it('drops tagged entries loaded by read-through when the tag is invalidated', async () => {
    let clock = 10_000;
    const sut = cacheOf({ now: () => clock });
    const { loader, loads } = counting();
    await sut.getOrSet('a:top', loader, { tags: ['author:1'] });
    await sut.getOrSet('a:older', loader, { tags: ['author:1'] });
    await sut.getOrSet('b:top', loader, { tags: ['author:2'] });
    expect(loads()).toBe(3);
    await sut.invalidateTag('author:1');
    clock += 5_000;
    await sut.getOrSet('a:top', loader, { tags: ['author:1'] });
    await sut.getOrSet('a:older', loader, { tags: ['author:1'] });
    await sut.getOrSet('b:top', loader, { tags: ['author:2'] });
    expect(loads()).toBe(5);
  });

  it('serves warmed keys without loading them', async () => {
    const sut = cacheOf();
    await sut.warm([
      ['a', { v: 1 }],
      ['b', { v: 2 }],
    ]);
    const loader = jest.fn(() => Promise.resolve({ v: 0 }));
    await expect(sut.getOrSet('a', loader)).resolves.toEqual({ v: 1 });
    await expect(sut.getOrSet('b', loader)).resolves.toEqual({ v: 2 });
    expect(loader).not.toHaveBeenCalled();
  });

  it('exposes its hit ratio per layer as a gauge, computed at scrape time', async () => {
    const sut = cacheOf({ name: 'ratio-test' });
    const loader = (): Promise<Value> => Promise.resolve({ v: 1 });
    for (let i = 0; i < 4; i++) {
      await sut.getOrSet('a', loader); // one miss, then three hits
    }
    const values = (await cacheHitRatio.get()).values;
    expect(
      values.find((v) => v.labels.cache === 'ratio-test' && v.labels.layer === 'l1')?.value,
    ).toBe(0.75);
  });

  it('counts reads served while their early refresh runs (stale-while-revalidate)', async () => {
    let now = 0;
    const sut = refreshingAhead(() => now, 'stale-test');
    const { wait, release } = gate();
    let loads = 0;
    const loader = async (): Promise<Value> => {
      loads++;
      if (loads > 1) {
        await wait;
      }
      return { v: loads };
    };
    await sut.getOrSet('k', loader);
    const stale = async (): Promise<number> =>
      (await cacheStaleServedTotal.get()).values.find((v) => v.labels.cache === 'stale-test')
        ?.value ?? 0;
    now = 8_500; // in the refresh-ahead window: the first read starts the refresh
    await sut.getOrSet('k', loader);
    await sut.getOrSet('k', loader);
    await sut.getOrSet('k', loader);
    expect(await stale()).toBe(3);
    release();
    await new Promise((r) => setImmediate(r));
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 2 });
    expect(await stale()).toBe(3);
  });
});
