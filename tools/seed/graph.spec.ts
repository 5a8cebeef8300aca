import { mulberry32, planSeed, ZipfSampler } from './graph';

describe(ZipfSampler.name, () => {
  it('gives the most popular index far more draws than the median one', () => {
    const sut = new ZipfSampler(1000, 1.1, mulberry32(1));
    const counts = new Array<number>(1000).fill(0);
    for (let i = 0; i < 50_000; i++) {
      counts[sut.next()]++;
    }
    const sorted = [...counts].sort((a, b) => b - a);
    expect(sorted[0]).toBeGreaterThan(50 * Math.max(1, sorted[500]));
  });
});

describe('planSeed', () => {
  const options = {
    users: 300,
    posts: 2000,
    avgFollows: 10,
    days: 7,
    nowMs: 1_800_000_000_000,
    seed: 7,
  };

  it('keeps follower counts equal to the follow edges and never self-follows', () => {
    const sut = planSeed(options);
    const counted = new Array<number>(options.users).fill(0);
    sut.followees.forEach((list, follower) => {
      expect(new Set(list).size).toBe(list.length);
      expect(list).not.toContain(follower);
      for (const followee of list) {
        counted[followee]++;
      }
    });
    expect([...sut.followerCount]).toEqual(counted);
  });

  it('orders posts by time inside the window', () => {
    const sut = planSeed(options);
    const times = [...sut.postCreatedMs];
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThanOrEqual(options.nowMs - 7 * 24 * 3600 * 1000);
    expect(times[times.length - 1]).toBeLessThanOrEqual(options.nowMs);
  });

  it('builds the same data set from the same seed', () => {
    expect(planSeed(options).postAuthor).toEqual(planSeed(options).postAuthor);
  });
});
