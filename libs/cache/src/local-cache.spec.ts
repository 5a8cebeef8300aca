import { cacheRequestsTotal } from './cache.metrics';
import type { CacheEntry } from './cache-entry';
import { LocalCache } from './local-cache';

const entry = <T>(v: T): CacheEntry<T> => ({ v, ver: 1 });

describe(LocalCache.name, () => {
  it('bounds itself by bytes as well as entries, evicting the least recently used', () => {
    // each value's JSON is 1,002 bytes: three fit in 3,100 bytes, a fourth evicts the oldest
    const sut = new LocalCache<string>('bytes', {
      maxEntries: 100,
      maxBytes: 3_100,
      ttlSeconds: 60,
    });
    for (const key of ['a', 'b', 'c']) {
      sut.set(key, entry(key.repeat(1_000)));
    }
    sut.get('a'); // a is now the most recently used
    sut.set('d', entry('d'.repeat(1_000)));
    expect(sut.peek('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => sut.peek(k)?.v?.[0])).toEqual(['a', 'c', 'd']);
  });

  it('expires entries on the injected clock', () => {
    let now = 1_000;
    const sut = new LocalCache<number>('ttl', { maxEntries: 10, ttlSeconds: 2, now: () => now });
    sut.set('k', entry(1));
    now += 1_999;
    expect(sut.get('k')?.v).toBe(1);
    now += 2;
    expect(sut.get('k')).toBeUndefined();
  });

  it('reports keys that leave, but not keys that are replaced', () => {
    const removed: string[] = [];
    const sut = new LocalCache<number>('removed', { maxEntries: 2, ttlSeconds: 60 }, (key) =>
      removed.push(key),
    );
    sut.set('a', entry(1));
    sut.set('a', entry(2));
    sut.set('b', entry(1));
    sut.set('c', entry(1)); // evicts a
    sut.delete('b');
    sut.clear();
    expect(removed).toEqual(['a', 'b', 'c']);
  });

  it('counts a read as an L1 hit or miss, and a peek not at all', async () => {
    const sut = new LocalCache<number>('counted', { maxEntries: 10, ttlSeconds: 60 });
    sut.set('a', entry(1));
    sut.get('a');
    sut.get('b');
    sut.peek('a');
    const values = (await cacheRequestsTotal.get()).values.filter(
      (v) => v.labels.cache === 'counted',
    );
    expect(values.map((v) => [v.labels.result, v.value])).toEqual([
      ['hit', 1],
      ['miss', 1],
    ]);
  });
});
