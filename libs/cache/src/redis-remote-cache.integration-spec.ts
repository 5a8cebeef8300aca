import { testTopology } from '@murmur/testing';
import { Redis } from 'ioredis';
import type { CacheEntry } from './cache-entry';
import { RedisRemoteCache } from './redis-remote-cache';

type Value = { v: string };

/** The adapter's Lua on the real cache Redis of the test stack. */
describe(`${RedisRemoteCache.name} (real Redis)`, () => {
  const port = testTopology().redis.find((r) => r.purpose === 'cache')?.port ?? 0;
  const redis = new Redis(port, '127.0.0.1');
  const name = `it-remote-${process.pid}`;
  const sut = new RedisRemoteCache<Value>(redis, { name });
  const entry = (v: string, ver: number, exp = 0): CacheEntry<Value> => ({ v: { v }, ver, exp });

  afterAll(async () => {
    await redis.quit();
  });

  it('stores an entry with its TTL in ms unless Redis holds a newer version', async () => {
    await expect(sut.setIfNewer('a', entry('v2', 2), 1.5)).resolves.toBe('stored');
    await expect(sut.setIfNewer('a', entry('v1', 1), 60)).resolves.toBe('kept');
    await expect(sut.get('a')).resolves.toEqual({ ok: entry('v2', 2) });
    const ttl = await redis.pttl(`cache:${name}:a`);
    expect(ttl).toBeGreaterThan(1_000);
    expect(ttl).toBeLessThanOrEqual(1_500);
    await expect(sut.setIfNewer('a', entry('v3', 3), 60)).resolves.toBe('stored');
    await expect(sut.getMany(['a', 'none'])).resolves.toEqual({ ok: [entry('v3', 3), null] });
  });

  it('pops a tag’s keys in batches, deleting their entries and then the set', async () => {
    const keys = ['t1', 't2', 't3'];
    for (const key of keys) {
      await sut.setIfNewer(key, entry(key, 1), 60);
      await sut.addTags(key, ['tag'], 60);
    }
    const first = await sut.popTag('tag', 2);
    const second = await sut.popTag('tag', 2);
    expect([...(first?.ok ?? []), ...(second?.ok ?? [])].sort()).toEqual(keys);
    expect(second?.ok).toHaveLength(1);
    await expect(redis.exists(...keys.map((k) => `cache:${name}:${k}`))).resolves.toBe(0);
    await expect(redis.exists(`cache-tag:${name}:tag`)).resolves.toBe(0);
  });

  it('prunes tag members whose entry is gone when tagging', async () => {
    await sut.addTags('gone', ['pruned'], 60);
    await sut.setIfNewer('kept', entry('kept', 1), 60);
    await sut.addTags('kept', ['pruned'], 60);
    await expect(redis.smembers(`cache-tag:${name}:pruned`)).resolves.toEqual(['kept']);
    expect(await redis.ttl(`cache-tag:${name}:pruned`)).toBeGreaterThan(60);
  });

  it('remembers when a tag was invalidated, for as long as asked', async () => {
    await sut.markTagInvalidated('when', 12_345, 5_000);
    await expect(sut.tagsInvalidatedAt(['when', 'never'])).resolves.toEqual([12_345]);
    expect(await redis.pttl(`cache-tag-at:${name}:when`)).toBeLessThanOrEqual(5_000);
  });

  it('leases an early refresh to one caller, unless Redis already holds a newer entry', async () => {
    await sut.setIfNewer('hot', entry('v1', 1, 10_000), 60);
    await expect(sut.lease('hot', 10_000, 1_000)).resolves.toEqual({ ok: 'won' });
    await expect(sut.lease('hot', 10_000, 1_000)).resolves.toEqual({ ok: 'busy' });
    await sut.setIfNewer('hot', entry('v2', 2, 20_000), 60);
    await expect(sut.lease('hot', 10_000, 1_000)).resolves.toEqual({
      ok: entry('v2', 2, 20_000),
    });
  });
});
