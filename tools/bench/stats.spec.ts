import { percentile, runClosedLoop, zipfSampler, zipfTopShare } from './stats';

describe('bench stats', () => {
  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('draws Zipf ranks with the head share the distribution predicts', () => {
    // a seeded LCG, so the test is deterministic
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const n = 10_000;
    const draw = zipfSampler(n, 1.0, random);
    let head = 0;
    const draws = 50_000;
    for (let i = 0; i < draws; i++) {
      const k = draw();
      expect(k).toBeGreaterThanOrEqual(0);
      expect(k).toBeLessThan(n);
      if (k < 100) {
        head++;
      }
    }
    const expected = zipfTopShare(n, 1.0, 100);
    expect(expected).toBeGreaterThan(0.5);
    expect(Math.abs(head / draws - expected)).toBeLessThan(0.02);
    // s = 0 is uniform
    expect(zipfTopShare(1000, 0, 100)).toBeCloseTo(0.1, 10);
  });

  it('rejects a non-integer key count', () => {
    expect(() => zipfSampler(1.5, 1)).toThrow(/positive integer/);
  });

  it('runs a closed loop and counts failures apart', async () => {
    let n = 0;
    const result = await runClosedLoop(4, 50, async () => {
      n++;
      await new Promise((r) => setImmediate(r));
      if (n % 10 === 0) {
        throw new Error('boom');
      }
    });
    expect(result.ops + result.errors).toBe(n);
    expect(result.errors).toBeGreaterThan(0);
    expect(result.rps).toBeGreaterThan(0);
    expect(result.p99).toBeGreaterThanOrEqual(result.p50);
  });
});
