import { CacheEntries, type CacheClock } from './cache-entry';
import { LocalCache } from './local-cache';
import { ReadThrough } from './read-through';
import { RefreshPolicy } from './refresh-policy';
import { FakeRemoteCache } from './remote-cache.spec-helper';
import { TagSystem } from './tag-system';

type Value = { v: number };

describe(ReadThrough.name, () => {
  let remote: FakeRemoteCache<Value>;
  let local: LocalCache<Value>;
  let tags: TagSystem;
  let sut: ReadThrough<Value>;
  beforeEach(() => {
    remote = new FakeRemoteCache<Value>();
    local = new LocalCache<Value>('read-test', { maxEntries: 10, ttlSeconds: 60 });
    const clock: CacheClock = { now: () => 1_000, random: () => 0.5 };
    tags = new TagSystem({
      remote,
      forget: (k) => local.delete(k),
      now: clock.now,
      graceMs: 0,
    });
    sut = new ReadThrough<Value>({
      cacheName: 'read-test',
      entries: new CacheEntries<Value>(
        { ttlSeconds: 60, negativeTtlSeconds: 5, versionOf: (x) => x.v },
        clock,
      ),
      local,
      remote,
      tags,
      refresh: new RefreshPolicy<Value>({
        cacheName: 'read-test',
        ttlSeconds: 60,
        xfetchBeta: 0,
        refreshAheadRatio: 0,
        clock,
        adopt: () => undefined,
      }),
      clock,
    });
  });

  it('stores a load in both layers, tagged in both', async () => {
    await expect(
      sut.getOrSet('k', () => Promise.resolve({ v: 1 }), { tags: ['t'] }),
    ).resolves.toEqual({ v: 1 });
    expect(local.peek('k')?.v).toEqual({ v: 1 });
    expect(remote.entries.get('k')?.v).toEqual({ v: 1 });
    expect([...(remote.tagSets.get('t') ?? [])]).toEqual(['k']);
  });

  it('never replaces a newer version in L1 with an older load', async () => {
    local.set('k', { v: { v: 5 }, ver: 5 });
    await sut.store('k', { v: 3 });
    expect(local.peek('k')?.v).toEqual({ v: 5 });
  });

  it('remembers "not found" in L2 only, untagged', async () => {
    await expect(
      sut.getOrSet('k', () => Promise.resolve(null), { tags: ['t'] }),
    ).resolves.toBeNull();
    expect(local.peek('k')).toBeUndefined();
    expect(remote.entries.get('k')).toMatchObject({ v: null, ver: 0 });
    expect(remote.tagSets.has('t')).toBe(false);
  });

  it('learns the tags of a key it finds in L2, so a tag heard later drops it from L1', async () => {
    remote.entries.set('k', { v: { v: 1 }, ver: 1 });
    await sut.getOrSet('k', () => Promise.resolve({ v: 2 }), { tags: ['t'] });
    expect(local.peek('k')?.v).toEqual({ v: 1 });
    tags.heard('t');
    expect(local.peek('k')).toBeUndefined();
  });

  it('does not store in L2 what it loaded while L2 was unreachable', async () => {
    remote.down = true;
    await sut.getOrSet('k', () => Promise.resolve({ v: 1 }), {});
    expect(remote.calls).toEqual(['get']);
    expect(local.peek('k')?.v).toEqual({ v: 1 });
  });

  it('tags in L2 only what L2 stored', async () => {
    remote.down = true;
    await expect(sut.writeRemote('k', { v: { v: 1 }, ver: 1 }, 60, ['t'])).resolves.toBe(
      'unreached',
    );
    expect(remote.calls).toEqual(['setIfNewer']);
  });
});
