/**
 * The bench report: the all-on table with ratios to the ceilings, the pattern-off tables with
 * ratios to the all-on run, and SVG bar charts of both.
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

export function barChartSvg(rows: Row[], title: string): string {
  const width = 720;
  const barH = 22;
  const left = 260;
  const max = Math.max(...rows.map((r) => r.okRps), 1);
  const height = 40 + rows.length * (barH + 6);
  const bars = rows
    .map((r, i) => {
      const y = 30 + i * (barH + 6);
      const w = Math.max(1, ((width - left - 80) * r.okRps) / max);
      const fill = r.kind === 'ceiling' ? '#999' : r.kind === 'write' ? '#d5803a' : '#3a7bd5';
      const label = `${r.name} (${r.mode})`.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      return `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${label}</text><rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${fill}"/><text x="${left + w + 6}" y="${y + 15}" font-size="12">${Math.round(r.okRps)} 2xx/s</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="10" y="18" font-size="14" font-weight="bold">${title}</text>\n${bars}\n</svg>\n`;
}

/** One journey in one configuration. */
export interface PatternRun extends Omit<Row, 'name' | 'mode'> {
  config: string;
  journey: string;
}

export const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * Two tables: 2xx/s of every journey in every configuration with the ratio to the first
 * configuration (all on), and the p99 latencies.
 */
export function patternTables(runs: PatternRun[], configs: string[]): string {
  const journeys = [...new Set(runs.filter((r) => r.kind !== 'ceiling').map((r) => r.journey))];
  const cell = (journey: string, config: string): PatternRun | undefined =>
    runs.find((r) => r.journey === journey && r.config === config);
  const head = `| journey | ${configs.join(' | ')} |`;
  const rule = `|---|${configs.map(() => '---:').join('|')}|`;
  const throughput = journeys.map((j) => {
    const base = cell(j, configs[0]);
    const cells = configs.map((c) => {
      const r = cell(j, c);
      if (!r) {
        return '–';
      }
      const ratio = base && base.okRps > 0 ? ` (×${(r.okRps / base.okRps).toFixed(2)})` : '';
      const failed = r.errors > 0 ? `, ${r.errors} non-2xx` : '';
      return `${Math.round(r.okRps)}${c === configs[0] ? '' : ratio}${failed}`;
    });
    return `| ${j} | ${cells.join(' | ')} |`;
  });
  const latency = journeys.map((j) => {
    const cells = configs.map((c) => {
      const r = cell(j, c);
      return r ? `${r.p50.toFixed(0)} / ${r.p99.toFixed(0)}` : '–';
    });
    return `| ${j} | ${cells.join(' | ')} |`;
  });
  return [
    '2xx answers per second (× the all-on run):',
    '',
    head,
    rule,
    ...throughput,
    '',
    'Latency p50 / p99, ms:',
    '',
    head,
    rule,
    ...latency,
  ].join('\n');
}

/** A bar per configuration, grouped by journey; 2xx/s on a shared scale. */
export function groupedBarChartSvg(runs: PatternRun[], configs: string[], title: string): string {
  const journeys = [...new Set(runs.filter((r) => r.kind !== 'ceiling').map((r) => r.journey))];
  const palette = [
    '#3a7bd5',
    '#7fb3ff',
    '#5cb85c',
    '#8e44ad',
    '#f0ad4e',
    '#d9534f',
    '#d5803a',
    '#777',
  ];
  const width = 760;
  const left = 220;
  const barH = 10;
  const groupH = configs.length * (barH + 2) + 12;
  const top = 30 + 16 * Math.ceil(configs.length / 4);
  const height = top + journeys.length * groupH + 10;
  const max = Math.max(...runs.filter((r) => r.kind !== 'ceiling').map((r) => r.okRps), 1);
  const legend = configs
    .map((c, i) => {
      const x = 10 + (i % 4) * 185;
      const y = 28 + 16 * Math.floor(i / 4);
      return `<rect x="${x}" y="${y}" width="10" height="10" fill="${palette[i % palette.length]}"/><text x="${x + 14}" y="${y + 9}" font-size="11">${escape(c)}</text>`;
    })
    .join('');
  const groups = journeys
    .map((j, g) => {
      const y0 = top + g * groupH;
      const bars = configs
        .map((c, i) => {
          const r = runs.find((x) => x.journey === j && x.config === c);
          if (!r) {
            return '';
          }
          const w = Math.max(1, ((width - left - 70) * r.okRps) / max);
          const y = y0 + i * (barH + 2);
          return `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${palette[i % palette.length]}"/><text x="${left + w + 4}" y="${y + 9}" font-size="10">${Math.round(r.okRps)}</text>`;
        })
        .join('');
      return `<text x="${left - 8}" y="${y0 + groupH / 2}" text-anchor="end" font-size="12">${escape(j)}</text>${bars}`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="10" y="18" font-size="14" font-weight="bold">${escape(title)}</text>${legend}\n${groups}\n</svg>\n`;
}
