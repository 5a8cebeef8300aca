import { CacheEntries, type CacheClock } from './cache-entry';

type Value = { v: number; at: number };

describe(CacheEntries.name, () => {
  const clockAt = (now: number, roll: number): CacheClock => ({
    now: () => now,
    random: () => roll,
  });

  it('jitters the TTL by ±10% with the injected random source', () => {
    const policy = { ttlSeconds: 100, negativeTtlSeconds: 5 };
    const low = new CacheEntries<Value>(policy, clockAt(0, 0)).entryOf({ v: 1, at: 0 });
    const high = new CacheEntries<Value>(policy, clockAt(0, 1)).entryOf({ v: 1, at: 0 });
    expect(low.ttlSeconds).toBeCloseTo(90);
    expect(high.ttlSeconds).toBeCloseTo(110);
    expect(low.entry.exp).toBeCloseTo(90_000);
  });

  it('versions a value by the clock unless the cache says how', () => {
    const byClock = new CacheEntries<Value>(
      { ttlSeconds: 10, negativeTtlSeconds: 0 },
      clockAt(42_000, 0.5),
    );
    const byValue = new CacheEntries<Value>(
      { ttlSeconds: 10, negativeTtlSeconds: 0, versionOf: (x) => x.at },
      clockAt(42_000, 0.5),
    );
    expect(byClock.entryOf({ v: 1, at: 7 }, 12).entry).toEqual({
      v: { v: 1, at: 7 },
      ver: 42_000,
      d: 12,
      exp: 52_000,
    });
    expect(byValue.entryOf({ v: 1, at: 7 }).entry.ver).toBe(7);
  });

  it('remembers "not found" for the negative TTL, unjittered, at version 0', () => {
    const sut = new CacheEntries<Value>({ ttlSeconds: 60, negativeTtlSeconds: 5 }, clockAt(0, 0));
    expect(sut.cachesNotFound).toBe(true);
    expect(sut.entryOf(null)).toEqual({
      entry: { v: null, ver: 0, d: undefined, exp: 5_000 },
      ttlSeconds: 5,
    });
    expect(
      new CacheEntries({ ttlSeconds: 1, negativeTtlSeconds: 0 }, clockAt(0, 0)).cachesNotFound,
    ).toBe(false);
  });
});
