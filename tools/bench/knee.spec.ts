import { endpointSlo, KneeSearch, sloViolations } from './knee';
import { tally, type Sample, type Window } from './open-loop';

/** Runs the search against a system that meets the SLOs at exactly the rates `passes` accepts. */
function search(ramp: number[], passes: (rate: number) => boolean, bisect = 0) {
  const sut = new KneeSearch(ramp, bisect);
  const tried: number[] = [];
  for (let r = sut.next(); r !== undefined; r = sut.next()) {
    tried.push(r);
    sut.record(r, passes(r));
  }
  return { sut, tried };
}

describe(KneeSearch.name, () => {
  const ramp = [25, 50, 100, 150, 200, 300, 400];

  it('stops after two consecutive failing steps and takes the last good rate as the knee', () => {
    const { sut, tried } = search(ramp, (r) => r <= 100);
    expect(tried).toEqual([25, 50, 100, 150, 200]);
    expect([sut.knee, sut.firstBad, sut.status]).toEqual([100, 150, 'found']);
  });

  it('keeps going past one failing step (noise) and reports it', () => {
    const { sut, tried } = search(ramp, (r) => r !== 50 && r <= 150);
    expect(tried).toEqual([25, 50, 100, 150, 200, 300]);
    expect([sut.knee, sut.firstBad, sut.blips]).toEqual([150, 200, [50]]);
  });

  it('bisects between the knee and the first failing rate', () => {
    const { sut, tried } = search(ramp, (r) => r <= 170, 2);
    // 150 good, 200 and 300 bad; then 175 (bad), 163 (good)
    expect(tried).toEqual([25, 50, 100, 150, 200, 300, 175, 163]);
    expect([sut.knee, sut.firstBad]).toEqual([163, 175]);
  });

  it('says it is bisecting once the ramp is over', () => {
    const sut = new KneeSearch([10, 20, 30], 1);
    const phases: boolean[] = [];
    for (let r = sut.next(); r !== undefined; r = sut.next()) {
      phases.push(sut.bisecting);
      sut.record(r, r < 20);
    }
    expect(phases).toEqual([false, false, false, true]);
  });

  it('stops bisecting when the rates are adjacent', () => {
    const { tried } = search([1, 2, 3, 4], (r) => r <= 1, 5);
    expect(tried).toEqual([1, 2, 3]);
  });

  it('reports a knee below the first rate when the first two steps fail', () => {
    const { sut, tried } = search(ramp, () => false, 3);
    expect(tried).toEqual([25, 50]);
    expect([sut.knee, sut.firstBad, sut.status]).toEqual([undefined, 25, 'below-first']);
  });

  it('reports the knee as not reached when every rate passes', () => {
    const { sut } = search(ramp, () => true, 2);
    expect([sut.knee, sut.firstBad, sut.status]).toEqual([400, undefined, 'not-reached']);
  });

  it('takes a single failure at the end of the ramp as the first bad rate', () => {
    const { sut } = search(ramp, (r) => r < 400);
    expect([sut.knee, sut.firstBad, sut.status]).toEqual([300, 400, 'found']);
  });

  it('refuses a ramp that does not increase and a result it did not ask for', () => {
    expect(() => new KneeSearch([50, 25])).toThrow(/increasing/);
    const sut = new KneeSearch([10, 20]);
    expect(sut.next()).toBe(10);
    expect(() => sut.record(20, true)).toThrow(/asked for/);
  });
});

describe(sloViolations.name, () => {
  const samples = (tag: string, latencies: number[], statuses: number[] = []): Sample[] =>
    latencies.map((latencyMs, i) => {
      const status = statuses[i] ?? 200;
      const ok = status >= 200 && status < 300;
      return {
        tag,
        scheduledMs: i,
        lagMs: 0,
        latencyMs,
        key: String(status),
        outcome: ok ? 'ok' : status === 429 || status === 503 ? 'shed' : 'bad',
      };
    });
  const win = (...groups: Sample[][]): Window => {
    const all = groups.flat();
    return {
      seconds: 1,
      all: tally(all),
      byTag: Object.fromEntries(groups.map((g) => [g[0].tag, tally(g)])),
      lagP99: 0,
      lagMax: 0,
    };
  };
  const fast = (n: number, ms = 5): number[] => Array.from({ length: n }, () => ms);

  it('uses the k6 limits: feed 50 ms, log-in 500 ms, the rest 200 ms, 1% failed', () => {
    expect(endpointSlo('feed')).toEqual({ p95Ms: 50, maxFailedShare: 0.01 });
    expect(endpointSlo('login').p95Ms).toBe(500);
    expect(endpointSlo('profile').p95Ms).toBe(200);
  });

  it('passes a step inside every SLO', () => {
    expect(sloViolations(win(samples('profile', fast(200, 150))))).toEqual([]);
  });

  it('fails a feed p95 of 50 ms that would pass for any other endpoint', () => {
    const lat = [...fast(90), ...fast(10, 60)];
    expect(sloViolations(win(samples('profile', lat)))).toEqual([]);
    expect(sloViolations(win(samples('feed', lat)))).toEqual(['p95 60 ms ≥ 50']);
  });

  it('counts 429 and 503 as failed: shed load is not success', () => {
    const statuses = [...Array<number>(98).fill(200), 429, 503];
    expect(sloViolations(win(samples('like', fast(100), statuses)))).toEqual(['failed 2.0% ≥ 1%']);
  });

  it('names the endpoint that broke in a mixed step, and the overall figures', () => {
    const w = win(
      samples('feed', fast(100, 80)),
      samples('profile', fast(100, 10), [...Array<number>(99).fill(200), 502]),
    );
    expect(sloViolations(w)).toEqual(['feed p95 80 ms ≥ 50', 'profile failed 1.0% ≥ 1%']);
  });

  it('fails an empty step', () => {
    expect(sloViolations(win())).toEqual(['no requests']);
  });
});
