import { MissedWrites } from './missed-writes';
import { FakeRemoteCache } from './remote-cache.spec-helper';

describe(MissedWrites.name, () => {
  let remote: FakeRemoteCache<number>;
  let announced: string[][];
  beforeEach(() => {
    remote = new FakeRemoteCache<number>();
    announced = [];
  });
  const missedOf = (bound?: number): MissedWrites =>
    new MissedWrites(
      remote,
      (keys) => {
        announced.push(keys);
        return Promise.resolve();
      },
      bound,
    );

  it('deletes the missed keys in L2 and announces them, in batches of 500', async () => {
    const sut = missedOf();
    const keys = Array.from({ length: 501 }, (_, i) => `k${i}`);
    keys.forEach((k) => remote.entries.set(k, { v: 1, ver: 1 }));
    keys.forEach((k) => sut.add(k));
    await sut.replay();
    expect(remote.entries.size).toBe(0);
    expect(announced.map((batch) => batch.length)).toEqual([500, 1]);
    expect(sut.size).toBe(0);
  });

  it('keeps what it could not replay for the next recovery', async () => {
    const sut = missedOf();
    ['a', 'b'].forEach((k) => sut.add(k));
    remote.down = true;
    await sut.replay();
    expect(sut.size).toBe(2);
    expect(announced).toEqual([]);
    remote.down = false;
    await sut.replay();
    expect(announced).toEqual([['a', 'b']]);
  });

  it('stops remembering past its bound (the TTL is the backstop)', () => {
    const sut = missedOf(2);
    ['a', 'b', 'c'].forEach((k) => sut.add(k));
    expect(sut.size).toBe(2);
  });
});
