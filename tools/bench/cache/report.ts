/** The cache bench's report: Markdown sections of a heading, how it was measured, and a table. */
import type { L2BreakerOptions } from '@murmur/cache';

export interface Column<R> {
  head: string;
  /** numbers are right-aligned */
  numeric?: boolean;
  cell: (row: R) => string;
}

export function markdownTable<R>(columns: ReadonlyArray<Column<R>>, rows: readonly R[]): string {
  return [
    `| ${columns.map((c) => c.head).join(' | ')} |`,
    `|${columns.map((c) => (c.numeric ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${columns.map((c) => c.cell(r)).join(' | ')} |`),
  ].join('\n');
}

/** A report section: `## title`, the prose saying how it was measured, then the table. */
export function section(title: string, how: readonly string[], table: string): string {
  return [`## ${title}`, '', ...how, '', table, ''].join('\n');
}

const seconds = (ms: number): string => (ms % 1_000 === 0 ? `${ms / 1_000} s` : `${ms} ms`);

/** What the L2 breaker does, in words, from its settings (so the prose cannot drift from them). */
export function breakerSummary(b: L2BreakerOptions): string {
  return (
    `${b.timeoutMs} ms command timeout; opens after ${b.consecutiveFailures} failures in a row, ` +
    `or at ≥${b.errorThresholdPercentage}% failures over ${seconds(b.windowMs)} once ` +
    `${b.volumeThreshold} calls were made; one trial call after ${seconds(b.resetTimeoutMs)}`
  );
}
