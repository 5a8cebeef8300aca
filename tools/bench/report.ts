/**
 * The bench report: the all-on table with ratios to the ceilings, the pattern-off tables with
 * ratios to the mean of the repeated all-on runs and their spread, a chart of those ratios, and
 * issue 14's goals.
 */
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

/** Where a report goes: `<out>/<date>-<machine>…`, the folder made if missing. */
export function reportPlace(out: string): { dir: string; date: string; machine: string } {
  const dir = path.resolve(out);
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    date: new Date().toISOString().slice(0, 10),
    machine: hostname().replace(/[^A-Za-z0-9_.-]/g, '_'),
  };
}

export interface Row {
  name: string;
  kind: 'ceiling' | 'journey' | 'write';
  mode: string;
  rps: number;
  /** 2xx answers per second: rate-limited (429) answers are fast and must not count */
  okRps: number;
  p50: number;
  p99: number;
  errors: number;
}

export function markdownTable(rows: Row[]): string {
  const ceiling = Math.max(...rows.filter((r) => r.kind === 'ceiling').map((r) => r.okRps), 1);
  const lines = [
    '| target | mode | req/s | 2xx/s | % of NGINX ceiling (2xx) | p50 ms | p99 ms | non-2xx + errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.mode} | ${Math.round(r.rps)} | ${Math.round(r.okRps)} | ${((100 * r.okRps) / ceiling).toFixed(1)}% | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} |`,
    );
  }
  return lines.join('\n');
}

/** One journey in one configuration. */
export interface PatternRun extends Omit<Row, 'name' | 'mode'> {
  config: string;
  journey: string;
}

export const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** The all-on configuration and its repeats (`baseline`, `baseline-2`, …). */
export const isBaseline = (config: string): boolean => /^baseline(-\d+)?$/.test(config);

/** A journey's repeated all-on runs: their mean 2xx/s and each run's distance from it. */
export interface Spread {
  mean: number;
  /** the lowest and highest run, as ratios to the mean */
  low: number;
  high: number;
  n: number;
}

export function baselineSpread(runs: PatternRun[], journey: string): Spread | undefined {
  const values = runs
    .filter((r) => r.journey === journey && isBaseline(r.config))
    .map((r) => r.okRps);
  if (values.length === 0) {
    return undefined;
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (mean <= 0) {
    return { mean, low: 1, high: 1, n: values.length };
  }
  return {
    mean,
    low: Math.min(...values) / mean,
    high: Math.max(...values) / mean,
    n: values.length,
  };
}

/**
 * A configuration's ratio to the baseline mean is significant when it lies outside the band the
 * repeated baseline itself spans (at least 2 repeats; with one there is no band to judge by).
 */
export function significant(ratio: number, spread: Spread | undefined): boolean {
  return spread !== undefined && spread.n >= 2 && (ratio < spread.low || ratio > spread.high);
}

const journeysOf = (runs: PatternRun[]): string[] => [
  ...new Set(runs.filter((r) => r.kind !== 'ceiling').map((r) => r.journey)),
];

/**
 * Two tables: 2xx/s of every journey in every configuration with the ratio to the mean of the
 * repeated all-on runs (their spread in its own column; ✱ marks a ratio outside it), and the
 * latencies.
 */
export function patternTables(runs: PatternRun[], configs: string[]): string {
  const journeys = journeysOf(runs);
  const cell = (journey: string, config: string): PatternRun | undefined =>
    runs.find((r) => r.journey === journey && r.config === config);
  const head = `| journey | baseline mean (spread) | ${configs.join(' | ')} |`;
  const rule = `|---|---:|${configs.map(() => '---:').join('|')}|`;
  const throughput = journeys.map((j) => {
    const spread = baselineSpread(runs, j);
    const band =
      spread === undefined
        ? '–'
        : `${Math.round(spread.mean)} (×${spread.low.toFixed(2)}–×${spread.high.toFixed(2)}, n=${spread.n})`;
    const cells = configs.map((c) => {
      const r = cell(j, c);
      if (!r) {
        return '–';
      }
      const ratio = spread && spread.mean > 0 ? r.okRps / spread.mean : undefined;
      const mark = ratio !== undefined && !isBaseline(c) && significant(ratio, spread) ? ' ✱' : '';
      const shown = ratio === undefined ? '' : ` (×${ratio.toFixed(2)}${mark})`;
      const failed = r.errors > 0 ? `, ${r.errors} non-2xx` : '';
      return `${Math.round(r.okRps)}${shown}${failed}`;
    });
    return `| ${j} | ${band} | ${cells.join(' | ')} |`;
  });
  const latencyHead = `| journey | ${configs.join(' | ')} |`;
  const latencyRule = `|---|${configs.map(() => '---:').join('|')}|`;
  const latency = journeys.map((j) => {
    const cells = configs.map((c) => {
      const r = cell(j, c);
      return r ? `${r.p50.toFixed(0)} / ${r.p99.toFixed(0)}` : '–';
    });
    return `| ${j} | ${cells.join(' | ')} |`;
  });
  return [
    '2xx answers per second (× the mean of the all-on runs; ✱ outside their spread):',
    '',
    head,
    rule,
    ...throughput,
    '',
    'Latency p50 / p99, ms:',
    '',
    latencyHead,
    latencyRule,
    ...latency,
  ].join('\n');
}

/** Ten colours that stay apart (Tableau 10); configurations beyond ten reuse them in order. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

/**
 * Each journey's ratio to the baseline mean, a bar per configuration that is not a baseline (one
 * colour each), over a grey band where the repeated baseline runs lie and a line at ×1: a bar that
 * ends inside the band says nothing.
 */
export function ratioChartSvg(runs: PatternRun[], configs: string[], title: string): string {
  const journeys = journeysOf(runs);
  const others = configs.filter((c) => !isBaseline(c));
  const width = 780;
  const left = 220;
  const right = 60;
  const barH = 9;
  const groupH = others.length * (barH + 2) + 14;
  const top = 34 + 16 * Math.ceil((others.length + 1) / 4);
  const height = top + journeys.length * groupH + 28;
  const ratios = runs
    .filter((r) => r.kind !== 'ceiling' && !isBaseline(r.config))
    .map((r) =>
      (baselineSpread(runs, r.journey)?.mean ?? 0) > 0
        ? r.okRps / (baselineSpread(runs, r.journey) as Spread).mean
        : 0,
    );
  const max = Math.max(2, Math.ceil(Math.max(...ratios, 1) * 2) / 2);
  const x = (ratio: number): number => left + ((width - left - right) * ratio) / max;
  const legend = [
    `<rect x="10" y="28" width="10" height="10" fill="#ddd"/><text x="24" y="37" font-size="11">baseline spread</text>`,
    ...others.map((c, i) => {
      const lx = 10 + ((i + 1) % 4) * 190;
      const ly = 28 + 16 * Math.floor((i + 1) / 4);
      return `<rect x="${lx}" y="${ly}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${lx + 14}" y="${ly + 9}" font-size="11">${escape(c)}</text>`;
    }),
  ].join('');
  const groups = journeys
    .map((j, g) => {
      const y0 = top + g * groupH;
      const spread = baselineSpread(runs, j);
      const band = spread
        ? `<rect x="${x(spread.low).toFixed(1)}" y="${y0 - 3}" width="${Math.max(1, x(spread.high) - x(spread.low)).toFixed(1)}" height="${groupH - 8}" fill="#ddd"/>`
        : '';
      const bars = others
        .map((c, i) => {
          const r = runs.find((run) => run.journey === j && run.config === c);
          if (!r || !spread || spread.mean <= 0) {
            return '';
          }
          const ratio = r.okRps / spread.mean;
          const y = y0 + i * (barH + 2);
          const mark = significant(ratio, spread) ? ' ✱' : '';
          return `<rect x="${left}" y="${y}" width="${Math.max(1, x(ratio) - left).toFixed(1)}" height="${barH}" fill="${PALETTE[i % PALETTE.length]}" fill-opacity="0.9"/><text x="${(x(ratio) + 4).toFixed(1)}" y="${y + 8}" font-size="9">×${ratio.toFixed(2)}${mark}</text>`;
        })
        .join('');
      return `<text x="${left - 8}" y="${y0 + groupH / 2 - 4}" text-anchor="end" font-size="12">${escape(j)}</text>${band}${bars}`;
    })
    .join('\n');
  const axisY = top + journeys.length * groupH;
  const ticks = Array.from({ length: Math.round(max * 2) + 1 }, (_, i) => i / 2)
    .map(
      (t) =>
        `<line x1="${x(t).toFixed(1)}" y1="${top - 6}" x2="${x(t).toFixed(1)}" y2="${axisY}" stroke="${t === 1 ? '#333' : '#eee'}" stroke-width="${t === 1 ? 1.5 : 1}"/><text x="${x(t).toFixed(1)}" y="${axisY + 14}" text-anchor="middle" font-size="10">×${t}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="10" y="18" font-size="14" font-weight="bold">${escape(title)}</text>${legend}\n${ticks}\n${groups}\n</svg>\n`;
}

/** One of issue 14's goals, measured. */
export interface Goal {
  goal: string;
  measured: string;
  target: string;
  /** undefined: not measured in this run (another mode, a configuration left out) */
  met?: boolean;
}

export function goalTable(goals: Goal[]): string {
  return [
    '| goal | measured | target | met |',
    '|---|---:|---:|---|',
    ...goals.map(
      (g) =>
        `| ${g.goal} | ${g.measured} | ${g.target} | ${g.met === undefined ? 'not measured here' : g.met ? 'yes' : '**no**'} |`,
    ),
  ].join('\n');
}
