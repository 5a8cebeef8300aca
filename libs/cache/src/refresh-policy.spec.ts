import { cacheLoadsTotal } from './cache.metrics';
import type { CacheEntry } from './cache-entry';
import { RefreshPolicy, type RefreshPolicyOptions } from './refresh-policy';
import { FakeRemoteCache } from './remote-cache.spec-helper';

type Value = { v: number };

describe(RefreshPolicy.name, () => {
  let now: number;
  let roll: number;
  let adopted: Array<[string, CacheEntry<Value>]>;
  beforeEach(() => {
    now = 0;
    roll = 0.5;
    adopted = [];
  });
  const policyOf = (options: Partial<RefreshPolicyOptions<Value>> = {}): RefreshPolicy<Value> =>
    new RefreshPolicy<Value>({
      cacheName: 'refresh-test',
      ttlSeconds: 10,
      xfetchBeta: 1,
      refreshAheadRatio: 0,
      clock: { now: () => now, random: () => roll },
      adopt: (key, entry) => adopted.push([key, entry]),
      ...options,
    });
  /** expires at 10 s, took 1 s to load */
  const held: CacheEntry<Value> = { v: { v: 1 }, ver: 1, d: 1_000, exp: 10_000 };
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('refreshes by XFetch when delta × beta × −ln(roll) reaches the expiry', () => {
    const sut = policyOf();
    now = 9_000; // 1 s before expiry: −1000 × ln(0.5) ≈ 0.7 s is not enough
    expect(sut.isDue(held)).toBe(false);
    roll = 0.3; // −1000 × ln(0.3) ≈ 1.2 s
    expect(sut.isDue(held)).toBe(true);
    expect(policyOf({ xfetchBeta: 0 }).isDue(held)).toBe(false);
  });

  it('refreshes ahead in the last part of the TTL', () => {
    const sut = policyOf({ xfetchBeta: 0, refreshAheadRatio: 0.3 });
    now = 6_999;
    expect(sut.isDue(held)).toBe(false);
    now = 7_000;
    expect(sut.isDue(held)).toBe(true);
  });

  it('never refreshes a cached "not found" or an entry without an expiry', () => {
    const sut = policyOf({ refreshAheadRatio: 1 });
    expect(sut.isDue({ ...held, v: null })).toBe(false);
    expect(sut.isDue({ ...held, exp: undefined })).toBe(false);
  });

  it('loads once per key at a time, and only when it wins the lease', async () => {
    const remote = new FakeRemoteCache<Value>();
    const sut = policyOf({ refreshAheadRatio: 1, remote });
    const load = jest.fn(() => Promise.resolve());
    sut.maybeRefresh('k', held, load);
    sut.maybeRefresh('k', held, load);
    await settle();
    expect(load).toHaveBeenCalledTimes(1);
    sut.maybeRefresh('k', held, load); // the lease is still held (by this process, here)
    await settle();
    expect(load).toHaveBeenCalledTimes(1);
    const skipped = (await cacheLoadsTotal.get()).values.find(
      (v) => v.labels.cache === 'refresh-test' && v.labels.outcome === 'early_skipped',
    );
    expect(skipped?.value).toBe(1);
  });

  it('adopts the newer entry another process refreshed instead of loading', async () => {
    const remote = new FakeRemoteCache<Value>();
    const newer: CacheEntry<Value> = { v: { v: 2 }, ver: 2, exp: 20_000 };
    remote.entries.set('k', newer);
    const sut = policyOf({ refreshAheadRatio: 1, remote });
    const load = jest.fn(() => Promise.resolve());
    sut.maybeRefresh('k', held, load);
    await settle();
    expect(load).not.toHaveBeenCalled();
    expect(adopted).toEqual([['k', newer]]);
  });

  it('refreshes on its own when L2 is unreachable, and a failed refresh costs nothing', async () => {
    const remote = new FakeRemoteCache<Value>();
    remote.down = true;
    const sut = policyOf({ refreshAheadRatio: 1, remote });
    const load = jest.fn(() => Promise.reject(new Error('source down')));
    sut.maybeRefresh('k', held, load);
    await settle();
    expect(load).toHaveBeenCalledTimes(1);
    sut.maybeRefresh('k', held, load); // the failed refresh is over: a new one may start
    await settle();
    expect(load).toHaveBeenCalledTimes(2);
  });
});
