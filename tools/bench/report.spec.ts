import {
  baselineSpread,
  goalTable,
  markdownTable,
  patternTables,
  type PatternRun,
  ratioChartSvg,
  significant,
} from './report';

const run = (config: string, journey: string, okRps: number, errors = 0): PatternRun => ({
  config,
  journey,
  kind: 'journey',
  rps: okRps,
  okRps,
  p50: 2,
  p99: 9,
  errors,
});

describe('bench report', () => {
  const runs = [
    run('baseline', 'feed', 900),
    run('baseline-2', 'feed', 1000),
    run('baseline-3', 'feed', 1100),
    run('l1-off', 'feed', 500),
    run('l2-off', 'feed', 950),
    run('baseline', 'like', 2000),
    run('l1-off', 'like', 2200, 3),
  ];

  it("measures the repeated all-on runs' mean and spread", () => {
    expect(baselineSpread(runs, 'feed')).toEqual({ mean: 1000, low: 0.9, high: 1.1, n: 3 });
    expect(baselineSpread(runs, 'like')).toEqual({ mean: 2000, low: 1, high: 1, n: 1 });
    expect(baselineSpread(runs, 'none')).toBeUndefined();
  });

  it('calls a ratio significant only outside the spread of at least two baseline runs', () => {
    const spread = { mean: 1000, low: 0.9, high: 1.1, n: 3 };
    expect(significant(0.5, spread)).toBe(true);
    expect(significant(1.2, spread)).toBe(true);
    expect(significant(0.95, spread)).toBe(false);
    expect(significant(0.5, { ...spread, n: 1 })).toBe(false);
  });

  it('gives each run its ratio to the baseline mean, marking those outside the spread', () => {
    const text = patternTables(runs, ['baseline', 'baseline-2', 'baseline-3', 'l1-off', 'l2-off']);
    expect(text).toContain(
      '| feed | 1000 (×0.90–×1.10, n=3) | 900 (×0.90) | 1000 (×1.00) | 1100 (×1.10) | 500 (×0.50 ✱) | 950 (×0.95) |',
    );
    // One baseline run: no band, so nothing is marked.
    expect(text).toContain(
      '| like | 2000 (×1.00–×1.00, n=1) | 2000 (×1.00) | – | – | 2200 (×1.10), 3 non-2xx | – |',
    );
    expect(text).toContain('| feed | 2 / 9 | 2 / 9 | 2 / 9 | 2 / 9 | 2 / 9 |');
  });

  it('charts a bar per journey and non-baseline configuration, each its own colour, over the band', () => {
    const svg = ratioChartSvg(
      runs,
      ['baseline', 'baseline-2', 'baseline-3', 'l1-off', 'l2-off'],
      'a <title>',
    );
    // bars start at x=220: feed × (l1-off, l2-off) and like × l1-off
    expect(svg.match(/<rect x="220"/g)).toHaveLength(3);
    expect(svg).toContain('fill="#4e79a7"');
    expect(svg).toContain('fill="#f28e2b"');
    expect(svg).toContain('×0.50 ✱');
    expect(svg).toContain('fill="#ddd"');
    expect(svg).toContain('a &lt;title>');
  });

  it('says which goals were met, missed or not measured', () => {
    const table = goalTable([
      { goal: 'a', measured: '60%', target: '≥ 50%', met: true },
      { goal: 'b', measured: '10%', target: '≥ 50%', met: false },
      { goal: 'c', measured: '–', target: '≤ ×0.33' },
    ]);
    expect(table).toContain('| a | 60% | ≥ 50% | yes |');
    expect(table).toContain('| b | 10% | ≥ 50% | **no** |');
    expect(table).toContain('| c | – | ≤ ×0.33 | not measured here |');
  });

  it('puts every row against the best ceiling', () => {
    const table = markdownTable([
      {
        name: 'nginx',
        kind: 'ceiling',
        mode: 'c',
        rps: 100,
        okRps: 100,
        p50: 1,
        p99: 2,
        errors: 0,
      },
      { name: 'feed', kind: 'journey', mode: 'c', rps: 25, okRps: 25, p50: 1, p99: 2, errors: 0 },
    ]);
    expect(table).toContain('| feed | c | 25 | 25 | 25.0% |');
  });
});
