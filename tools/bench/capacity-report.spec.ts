import {
  capacityChartSvg,
  errorBreakdown,
  errorsAboveKnee,
  summaryTable,
  type JourneyCapacity,
  type Phase,
  type StepResult,
} from './capacity-report';
import { tally, TIMEOUT, window, type Sample } from './open-loop';

/** A step of one second at `rate` whose answers have the given keys (the rest 200). */
function step(phase: Phase, rate: number, keys: Record<string, number> = {}): StepResult {
  const samples: Sample[] = [];
  const push = (key: string, n: number): void => {
    for (let i = 0; i < n; i++) {
      const ok = /^2/.test(key);
      const shed = key === '429' || key === '503';
      samples.push({
        tag: 'feed',
        scheduledMs: (samples.length * 1000) / rate,
        lagMs: 1,
        latencyMs: 10,
        key,
        outcome: ok ? 'ok' : shed ? 'shed' : 'bad',
      });
    }
  };
  const errors = Object.values(keys).reduce((a, b) => a + b, 0);
  push('200', rate - errors);
  Object.entries(keys).forEach(([k, n]) => push(k, n));
  return {
    phase,
    rate,
    window: window(samples, 0, 1000),
    violations: errors > 0 ? ['failed'] : [],
    cpuShare: 0.3,
    peakInFlight: 4,
    generatorLimited: false,
  };
}

const feed = (steps: StepResult[]): JourneyCapacity => ({
  id: 'feed',
  name: 'feed: first page',
  status: 'found',
  knee: 100,
  firstBad: 150,
  blips: [],
  steps,
});

describe(errorBreakdown.name, () => {
  it('puts 429/503 apart from 502, 504, timeouts and anything else', () => {
    const w = window([], 0, 1);
    w.all = tally([]);
    w.all.byKey = { '200': 9, '429': 3, '503': 2, '502': 1, [TIMEOUT]: 4, '500': 5, ECONNRESET: 1 };
    expect(errorBreakdown([w, w])).toEqual({
      shed: { '429': 6, '503': 4 },
      calledOut: { '502': 2, '504': 0, [TIMEOUT]: 8 },
      other: { '500': 10, ECONNRESET: 2 },
    });
  });
});

describe(errorsAboveKnee.name, () => {
  it('counts only the steps above the knee and calls out what is not shed load', () => {
    const j = feed([
      step('ramp', 100, { '502': 7 }),
      step('ramp', 150, { '503': 20 }),
      step('profile', 100),
      step('overload', 300, { '429': 50, '504': 2 }),
    ]);
    const text = errorsAboveKnee(j);
    expect(text).toContain('2 steps above the knee (150, 300 req/s)');
    expect(text).toContain('shed as designed 429: 50, 503: 20');
    expect(text).toContain('**not expected: 504: 2**');
  });

  it('says so when everything above the knee was shed as designed', () => {
    const text = errorsAboveKnee(feed([step('ramp', 150, { '503': 20 })]));
    expect(text).toContain('nothing else (no 502, 504, timeout or other error)');
  });
});

describe(summaryTable.name, () => {
  it('gives the overload goodput as a share of the knee and its 502/504 count', () => {
    const j = feed([step('ramp', 150, { '503': 60 }), step('overload', 300, { '503': 210 })]);
    const line = summaryTable([j]).split('\n')[2];
    expect(line).toContain('| feed: first page | 100 req/s | 150: failed | 300 req/s | 90 (90%) |');
    expect(line).toContain('| 0 / 210 | 0 / 0 / 0 | 0 |');
  });
});

describe(capacityChartSvg.name, () => {
  it('draws a panel per journey with the knee and the overload step', () => {
    const svg = capacityChartSvg(
      [feed([step('ramp', 150), step('overload', 300)]), { ...feed([]), name: 'a <b>' }],
      'title',
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('knee 100');
    expect(svg).toContain('feed: first page');
    expect(svg).toContain('a &lt;b>');
    expect(svg.match(/<polyline/g)).toHaveLength(6);
    expect(svg).toContain('<path d="M');
  });
});
