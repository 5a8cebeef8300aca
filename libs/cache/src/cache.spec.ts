import { cacheHitRatio, cacheStaleServedTotal } from '@murmur/observability';
import { Cache, type CacheOptions, type L2Client } from './cache';

/** An in-memory L2 that counts its calls and can be made to fail. */
class FakeL2 implements L2Client {
  readonly store = new Map<string, string>();
  calls = 0;
  mgets = 0;
  down = false;

  get(key: string): Promise<string | null> {
    return this.run(() => this.store.get(key) ?? null);
  }
  mget(...keys: string[]): Promise<(string | null)[]> {
    this.mgets++;
    return this.run(() => keys.map((k) => this.store.get(k) ?? null));
  }
  eval(_script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown> {
    // two keys: the refresh lease, always won here (its Lua runs in the integration test)
    return this.run(() => (numKeys === 2 ? 1 : this.store.set(String(args[0]), String(args[1]))));
  }
  del(...keys: string[]): Promise<number> {
    return this.run(() => keys.filter((k) => this.store.delete(k)).length);
  }
  private run<R>(op: () => R): Promise<R> {
    this.calls++;
    return this.down ? Promise.reject(new Error('connection refused')) : Promise.resolve(op());
  }
}

const withL2 = (l2: FakeL2, l1 = false): Cache<{ v: number }> =>
  new Cache<{ v: number }>({
    name: 'test',
    ttlSeconds: 60,
    negativeTtlSeconds: 5,
    l1: { enabled: l1, maxEntries: 100 },
    l2,
    l2Breaker: { volumeThreshold: 3, resetTimeoutMs: 60_000 },
  });

const l1Only = (negativeTtlSeconds = 5): Cache<{ v: number }> =>
  new Cache<{ v: number }>({
    name: 'test',
    ttlSeconds: 60,
    negativeTtlSeconds,
    l1: { enabled: true, maxEntries: 100 },
  });

/** A cache with test defaults (L1 only, 60 s, no negative caching), overridden per test. */
const cacheOf = <V = { v: number }>(options: Partial<CacheOptions<V>> = {}): Cache<V> =>
  new Cache<V>({
    name: 'test',
    ttlSeconds: 60,
    negativeTtlSeconds: 0,
    l1: { enabled: true, maxEntries: 10 },
    ...options,
  });

/** Refresh-ahead in the last 30% of a 10 s TTL, XFetch off, on an injected clock. */
const refreshingAhead = (now: () => number, name = 'test'): Cache<{ v: number }> =>
  cacheOf({
    name,
    ttlSeconds: 10,
    l1: { enabled: true, maxEntries: 10, ttlSeconds: 3600 },
    xfetchBeta: 0,
    refreshAheadRatio: 0.3,
    now,
  });

describe(Cache.name, () => {
  it('loads a cold key once for many concurrent readers (single flight)', async () => {
    const sut = l1Only();
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const loader = async (): Promise<{ v: number }> => {
      loads++;
      await gate;
      return { v: 1 };
    };
    const reads = Array.from({ length: 500 }, () => sut.getOrSet('k', loader));
    release();
    const values = await Promise.all(reads);
    expect(loads).toBe(1);
    expect(values.every((x) => x?.v === 1)).toBe(true);
  });

  it('serves later reads from L1 and replaces a value on write-through', async () => {
    const sut = l1Only();
    let loads = 0;
    const loader = (): Promise<{ v: number }> => Promise.resolve({ v: ++loads });
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 1 });
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 1 });
    await sut.set('k', { v: 9 });
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 9 });
    expect(loads).toBe(1);
  });

  it('reloads after a delete and when asked to bypass L1', async () => {
    const sut = l1Only();
    let loads = 0;
    const loader = (): Promise<{ v: number }> => Promise.resolve({ v: ++loads });
    await sut.getOrSet('k', loader);
    await sut.delete('k');
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 2 });
    await expect(sut.getOrSet('k', loader, { bypassL1: true })).resolves.toEqual({ v: 3 });
  });

  it('stops calling a failing L2 once the breaker opens, and still answers from the source', async () => {
    const l2 = new FakeL2();
    l2.down = true;
    const sut = withL2(l2);
    let loads = 0;
    const loader = (): Promise<{ v: number }> => Promise.resolve({ v: ++loads });
    for (let i = 0; i < 20; i++) {
      await expect(sut.getOrSet(`k${i}`, loader)).resolves.toEqual({ v: i + 1 });
    }
    expect(sut.l2Open).toBe(true);
    // Each read before the breaker opened cost a GET (no SET after a failed GET); after, none.
    expect(l2.calls).toBeLessThanOrEqual(4);
  });

  it('opens the breaker after three failures in a row in a quiet process', async () => {
    const l2 = new FakeL2();
    l2.down = true;
    const sut = cacheOf({
      name: 'quiet-test',
      l1: { enabled: false, maxEntries: 1 },
      l2,
      l2Breaker: { resetTimeoutMs: 60_000 },
    });
    // quiet: one read every 400 ms, never 5 calls (the volume threshold) within the 1 s window
    for (let i = 0; i < 3; i++) {
      expect(sut.l2Open).toBe(false);
      await sut.getOrSet(`q${i}`, () => Promise.resolve({ v: i }));
      await new Promise((r) => setTimeout(r, 400));
    }
    expect(sut.l2Open).toBe(true);
  });

  it('opens the breaker within a few failures even after a busy healthy period', async () => {
    const l2 = new FakeL2();
    const sut = cacheOf({
      name: 'window-test',
      l1: { enabled: false, maxEntries: 1 },
      l2,
      l2Breaker: { windowMs: 200 },
    });
    const loader = (): Promise<{ v: number }> => Promise.resolve({ v: 1 });
    for (let i = 0; i < 500; i++) {
      await sut.getOrSet(`k${i % 10}`, loader);
    }
    // Over opossum's default 10 s window the successes alone would outvote hundreds of failures,
    // each a timeout against a hung Redis: the short window and the in-a-row rule open it.
    await new Promise((r) => setTimeout(r, 300));
    l2.down = true;
    let reads = 0;
    while (!sut.l2Open && reads < 100) {
      await sut.getOrSet(`k${reads++ % 10}`, loader);
    }
    expect(sut.l2Open).toBe(true);
    expect(reads).toBeLessThanOrEqual(10);
  });

  it('multi-gets with one MGET and one source call for the misses, then serves from L1', async () => {
    const l2 = new FakeL2();
    const sut = withL2(l2, true);
    await sut.set('a', { v: 1 });
    const other = withL2(l2, true); // another process: empty L1, shared L2
    const asked: string[][] = [];
    const loadMissing = (missing: string[]): Promise<Map<string, { v: number }>> => {
      asked.push(missing);
      return Promise.resolve(
        new Map(missing.filter((k) => k !== 'gone').map((k) => [k, { v: 2 }])),
      );
    };
    const first = await other.getMany(['a', 'b', 'gone', 'b'], loadMissing);
    expect([...first.entries()]).toEqual([
      ['a', { v: 1 }],
      ['b', { v: 2 }],
      ['gone', null],
    ]);
    expect(asked).toEqual([['b', 'gone']]);
    expect(l2.mgets).toBe(1);
    const second = await other.getMany(['a', 'b'], loadMissing);
    expect(second.get('b')).toEqual({ v: 2 });
    // Both from L1: no L2 call, no source call.
    expect(asked).toHaveLength(1);
    expect(l2.mgets).toBe(1);
    // "Not found" is not remembered by a multi-get (the id may be on a lagging replica).
    await other.getMany(['gone'], loadMissing);
    expect(asked).toEqual([['b', 'gone'], ['gone']]);
  });

  it('refreshes a hot key early in the background (XFetch) and keeps serving the cached value', async () => {
    let now = 1_000_000;
    let roll = 0.5;
    const sut = new Cache<{ v: number }>({
      name: 'test',
      ttlSeconds: 10,
      negativeTtlSeconds: 0,
      l1: { enabled: true, maxEntries: 10, ttlSeconds: 3600 },
      now: () => now,
      random: () => roll,
    });
    let loads = 0;
    const loader = (): Promise<{ v: number }> => {
      loads++;
      now += 1_000; // each load takes 1 s of the fake clock
      return Promise.resolve({ v: loads });
    };
    await sut.getOrSet('k', loader);
    // ≥4 s before expiry (10 s ±10%) and 1 s loads: -1000 * ln(0.5) ≈ 0.7 s ahead, too early.
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
    let loads = 0;
    const loader = (): Promise<{ v: number }> => Promise.resolve({ v: ++loads });
    await sut.getOrSet('k', loader);
    now = 5_000;
    await sut.getOrSet('k', loader);
    expect(loads).toBe(1);
    now = 8_500; // within the last 30% whatever the ±10% jitter
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 1 });
    await new Promise((r) => setImmediate(r));
    expect(loads).toBe(2);
  });

  it('after an L2 outage, deletes in L2 and every L1 what it could not write through', async () => {
    const l2 = new FakeL2();
    const sut = new Cache<{ v: number }>({
      name: 'test',
      ttlSeconds: 60,
      negativeTtlSeconds: 5,
      l1: { enabled: true, maxEntries: 100 },
      l2,
      l2Breaker: { volumeThreshold: 2, resetTimeoutMs: 20 },
    });
    await sut.set('k', { v: 1 });
    l2.down = true;
    await sut.set('k', { v: 2 }); // L2 keeps { v: 1 }: stale for every other process
    await sut.set('j', { v: 2 });
    expect(sut.l2Open).toBe(true);
    l2.down = false;
    expect(l2.store.has('cache:test:k')).toBe(true);
    // The half-open trial (after 20 ms) succeeds, the breaker closes and the replay runs.
    const deadline = Date.now() + 2_000;
    while (l2.store.has('cache:test:k') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      await sut.getOrSet('probe', () => Promise.resolve({ v: 0 }), { bypassL1: true });
    }
    expect(l2.store.has('cache:test:k')).toBe(false);
    expect(sut.l2Open).toBe(false);
  });

  it('invalidates every key of a tag, and only those', async () => {
    const sut = l1Only();
    let loads = 0;
    const loader = (): Promise<{ v: number }> => Promise.resolve({ v: 100 + ++loads });
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

  it('does not keep an L2 "not found" in L1 beyond the negative TTL', async () => {
    const l2 = new FakeL2();
    const writer = withL2(l2, true);
    const reader = withL2(l2, true);
    await writer.getOrSet('new-row', () => Promise.resolve(null)); // lagging replica: not found
    await expect(reader.getOrSet('new-row', () => Promise.resolve({ v: 1 }))).resolves.toBeNull();
    l2.store.clear(); // the negative entry expires in L2
    await expect(reader.getOrSet('new-row', () => Promise.resolve({ v: 1 }))).resolves.toEqual({
      v: 1,
    });
  });

  it('does not cache a tagged load that may predate an invalidation of its tag', async () => {
    let clock = 10_000;
    const sut = new Cache<{ v: number }>({
      name: 'test',
      ttlSeconds: 60,
      negativeTtlSeconds: 0,
      l1: { enabled: true, maxEntries: 100 },
      tagGraceMs: 1_000,
      now: () => clock,
    });
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = async (): Promise<{ v: number }> => {
      loads++;
      await gate;
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
    const sut = new Cache<{ v: number }>({
      name: 'test',
      ttlSeconds: 60,
      negativeTtlSeconds: 0,
      l1: { enabled: true, maxEntries: 100 },
      now: () => clock,
    });
    let loads = 0;
    const loader = (): Promise<{ v: number }> => Promise.resolve({ v: ++loads });
    await sut.getOrSet('a:top', loader, { tags: ['author:1'] });
    await sut.getOrSet('a:older', loader, { tags: ['author:1'] });
    await sut.getOrSet('b:top', loader, { tags: ['author:2'] });
    expect(loads).toBe(3);
    await sut.invalidateTag('author:1');
    clock += 5_000;
    await sut.getOrSet('a:top', loader, { tags: ['author:1'] });
    await sut.getOrSet('a:older', loader, { tags: ['author:1'] });
    await sut.getOrSet('b:top', loader, { tags: ['author:2'] });
    expect(loads).toBe(5);
  });

  it('serves warmed keys without loading them', async () => {
    const sut = l1Only();
    await sut.warm([
      ['a', { v: 1 }],
      ['b', { v: 2 }],
    ]);
    const loader = jest.fn(() => Promise.resolve({ v: 0 }));
    await expect(sut.getOrSet('a', loader)).resolves.toEqual({ v: 1 });
    await expect(sut.getOrSet('b', loader)).resolves.toEqual({ v: 2 });
    expect(loader).not.toHaveBeenCalled();
  });

  it('bounds L1 by bytes as well as entries, evicting the least recently used', async () => {
    const sut = cacheOf<{ s: string }>({
      name: 'bytes',
      // each value's JSON is 1,008 bytes: three fit in 3,100 bytes, a fourth evicts the oldest
      l1: { enabled: true, maxEntries: 100, maxBytes: 3_100 },
    });
    const big = (c: string): { s: string } => ({ s: c.repeat(1_000) });
    await sut.warm([
      ['a', big('a')],
      ['b', big('b')],
      ['c', big('c')],
    ]);
    const loader = jest.fn((key: string) => Promise.resolve(big(key)));
    await sut.getOrSet('a', () => loader('a')); // a is now the most recently used
    await sut.warm([['d', big('d')]]);
    expect(loader).not.toHaveBeenCalled();
    await sut.getOrSet('b', () => loader('b')); // evicted: reloaded
    expect(loader).toHaveBeenCalledTimes(1);
    await sut.getOrSet('a', () => loader('a'));
    await sut.getOrSet('d', () => loader('d'));
    expect(loader).toHaveBeenCalledTimes(1);
  });

  it('exposes its hit ratio per layer as a gauge, computed at scrape time', async () => {
    const sut = cacheOf({ name: 'ratio-test' });
    const loader = (): Promise<{ v: number }> => Promise.resolve({ v: 1 });
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
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let loads = 0;
    const loader = async (): Promise<{ v: number }> => {
      loads++;
      if (loads > 1) {
        await gate;
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
