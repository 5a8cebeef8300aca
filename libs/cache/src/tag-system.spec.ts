import { FakeRemoteCache } from './remote-cache.spec-helper';
import { TAG_BATCH, TagSystem, type TagSystemOptions } from './tag-system';

describe(TagSystem.name, () => {
  let clock: number;
  let forgotten: string[];
  let remote: FakeRemoteCache<number>;
  beforeEach(() => {
    clock = 10_000;
    forgotten = [];
    remote = new FakeRemoteCache<number>();
  });
  const tagsOf = (options: Partial<TagSystemOptions> = {}): TagSystem =>
    new TagSystem({
      remote,
      forget: (key) => forgotten.push(key),
      now: () => clock,
      graceMs: 1_000,
      ...options,
    });

  it('drops the keys this process tagged when a tag is heard, and only those', () => {
    const sut = tagsOf();
    sut.tagLocal('p1', ['author:a']);
    sut.tagLocal('p2', ['author:a', 'topic:x']);
    sut.tagLocal('p3', ['author:b']);
    sut.heard('author:a');
    expect(forgotten).toEqual(['p1', 'p2']);
    sut.heard('topic:x'); // p2 left topic:x with author:a
    expect(forgotten).toEqual(['p1', 'p2']);
  });

  it('forgets the tags of a key that left L1', () => {
    const sut = tagsOf();
    sut.tagLocal('p1', ['author:a']);
    sut.untagLocal('p1');
    sut.heard('author:a');
    expect(forgotten).toEqual([]);
  });

  it('drains the tag’s L2 set in batches, marks the time, and drops what it found from L1', async () => {
    const sut = tagsOf();
    const keys = Array.from({ length: TAG_BATCH + 3 }, (_, i) => `k${i}`);
    keys.forEach((k) => remote.entries.set(k, { v: 1, ver: 1 }));
    await remote.addTags('other-key', ['other-tag'], 60);
    for (const key of keys) {
      await sut.tagRemote(key, ['t'], 60);
    }
    await expect(sut.invalidate('t')).resolves.toEqual(keys);
    expect(remote.callsTo('popTag')).toBe(2);
    expect(remote.entries.size).toBe(0);
    expect(remote.tagTimes.get('t')).toBe(10_000);
    expect(forgotten).toEqual(keys);
  });

  it('invalidates this process’s L1 only when there is no L2', async () => {
    const sut = tagsOf({ remote: undefined });
    sut.tagLocal('p1', ['t']);
    await expect(sut.invalidate('t')).resolves.toEqual([]);
    expect(forgotten).toEqual(['p1']);
  });

  it('suspects a load that started within the grace of an invalidation heard here or in L2', async () => {
    const sut = tagsOf();
    sut.heard('here', 10_000);
    remote.tagTimes.set('there', 10_000);
    await expect(sut.invalidatedSince(['here'], 10_999)).resolves.toBe(true);
    await expect(sut.invalidatedSince(['there'], 10_999)).resolves.toBe(true);
    await expect(sut.invalidatedSince(['here', 'there'], 11_001)).resolves.toBe(false);
    await expect(sut.invalidatedSince(['other'], 10_500)).resolves.toBe(false);
  });

  it('keeps no index of keys without an L1 to drop them from', () => {
    const sut = tagsOf({ forget: undefined });
    sut.tagLocal('p1', ['t']);
    sut.heard('t');
    expect(forgotten).toEqual([]);
  });
});
