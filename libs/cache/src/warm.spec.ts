import { warmCache } from './warm';

/** A cache that records what it was warmed with; `failAt` makes that batch's write throw. */
class RecordingCache {
  readonly name = 'profiles';
  readonly warmed: Array<[string, number]> = [];
  failAt = -1;
  private batch = 0;

  warm(entries: Array<[string, number]>): Promise<void> {
    if (this.batch++ === this.failAt) {
      return Promise.reject(new Error('L2 not answering'));
    }
    this.warmed.push(...entries);
    return Promise.resolve();
  }
}

/** Batches of two keys, each batch taking `msPerBatch` on the test's clock. */
function batchesOf(count: number, clock: { t: number }, msPerBatch: number) {
  return (async function* () {
    for (let i = 0; i < count; i++) {
      clock.t += msPerBatch;
      await Promise.resolve();
      yield [
        [`k${2 * i}`, 2 * i],
        [`k${2 * i + 1}`, 2 * i + 1],
      ] as Array<[string, number]>;
    }
  })();
}

describe(warmCache.name, () => {
  const logs = (): {
    lines: string[];
    logger: { log: (m: string) => void; warn: (m: string) => void };
  } => {
    const lines: string[] = [];
    return {
      lines,
      logger: { log: (m) => lines.push(`log ${m}`), warn: (m) => lines.push(`warn ${m}`) },
    };
  };

  it('loads every batch, logs progress against what was expected, and says it is complete', async () => {
    const cache = new RecordingCache();
    const clock = { t: 0 };
    const { lines, logger } = logs();
    const result = await warmCache(cache, batchesOf(3, clock, 100), {
      expected: 6,
      logger,
      now: () => clock.t,
    });
    expect(result).toEqual({ warmed: 6, ms: 300, complete: true });
    expect(cache.warmed.map(([k]) => k)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
    expect(lines).toEqual([
      'log warming profiles: up to 6 keys',
      'log warming profiles: 2/6 (33%)',
      'log warming profiles: 4/6 (67%)',
      'log warming profiles: 6/6 (100%)',
      'log warming profiles: done, 6 keys in 300 ms',
    ]);
  });

  it('stops at its deadline and leaves the rest to read-through', async () => {
    const cache = new RecordingCache();
    const clock = { t: 0 };
    const { lines, logger } = logs();
    const result = await warmCache(cache, batchesOf(10, clock, 4_000), {
      expected: 20,
      logger,
      deadlineMs: 10_000,
      now: () => clock.t,
    });
    // 4 s, 8 s, 12 s: the third batch is past the bound, so it is the last.
    expect(result).toEqual({ warmed: 6, ms: 12_000, complete: false });
    expect(cache.warmed).toHaveLength(6);
    expect(lines.at(-1)).toBe('warn warming profiles: stopped at the 10000 ms bound');
  });

  it('logs a failure and returns what it warmed instead of throwing', async () => {
    const cache = new RecordingCache();
    cache.failAt = 1;
    const clock = { t: 0 };
    const { lines, logger } = logs();
    const result = await warmCache(cache, batchesOf(3, clock, 10), {
      expected: 6,
      logger,
      now: () => clock.t,
    });
    expect(result).toEqual({ warmed: 2, ms: 20, complete: false });
    expect(lines.at(-1)).toBe('warn warming profiles: failed after 2 keys: L2 not answering');
  });
});
