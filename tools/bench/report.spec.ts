import { groupedBarChartSvg, markdownTable, patternTables, type PatternRun } from './report';

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
    run('baseline', 'feed', 1000),
    run('l1-off', 'feed', 500),
    run('baseline', 'like', 2000),
    run('l1-off', 'like', 2200, 3),
  ];

  it('gives each pattern-off run its ratio to the all-on run', () => {
    const text = patternTables(runs, ['baseline', 'l1-off']);
    expect(text).toContain('| feed | 1000 | 500 (×0.50) |');
    expect(text).toContain('| like | 2000 | 2200 (×1.10), 3 non-2xx |');
    expect(text).toContain('| feed | 2 / 9 | 2 / 9 |');
  });

  it('draws one bar per journey and configuration', () => {
    const svg = groupedBarChartSvg(runs, ['baseline', 'l1-off'], 'a <title>');
    expect(svg.match(/<rect x="220"/g)).toHaveLength(4);
    expect(svg).toContain('a &lt;title>');
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
