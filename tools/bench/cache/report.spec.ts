import { DEFAULT_L2_BREAKER } from '@murmur/cache';
import { breakerSummary, markdownTable, section } from './report';

describe(markdownTable.name, () => {
  it('renders a header, an alignment row and a row per item', () => {
    const sut = markdownTable(
      [
        { head: 'name', cell: (r: { n: string; x: number }) => r.n },
        { head: 'x', numeric: true, cell: (r) => String(r.x) },
      ],
      [
        { n: 'a', x: 1 },
        { n: 'b', x: 2 },
      ],
    );
    expect(sut).toBe('| name | x |\n|---|---:|\n| a | 1 |\n| b | 2 |');
  });
});

describe(section.name, () => {
  it('puts the heading, the prose and the table apart', () => {
    expect(section('1. T', ['how'], '| t |')).toBe('## 1. T\n\nhow\n\n| t |\n');
  });
});

describe(breakerSummary.name, () => {
  it('says what the default L2 breaker does, from its settings', () => {
    expect(breakerSummary(DEFAULT_L2_BREAKER)).toBe(
      '300 ms command timeout; opens after 3 failures in a row, or at ≥50% failures over 1 s ' +
        'once 5 calls were made; one trial call after 2 s',
    );
  });

  it('follows other settings', () => {
    const sut = breakerSummary({ ...DEFAULT_L2_BREAKER, timeoutMs: 250, resetTimeoutMs: 1_500 });
    expect(sut).toContain('250 ms command timeout');
    expect(sut).toContain('one trial call after 1500 ms');
  });
});
