/** The summary data k6 hands to handleSummary(), and the stand-in's own end-of-run tables. */
import { aggregate, BUILTIN_METRICS, DEFAULT_TREND_STATS, type MetricStore } from './metrics';
import type { Threshold, ThresholdResult } from './thresholds';

export interface SummaryInput {
  store: MetricStore;
  thresholds: readonly Threshold[];
  results: readonly ThresholdResult[];
  durationMs: number;
  trendStats?: readonly string[];
}

interface GroupNode {
  name: string;
  path: string;
  id: string;
  groups: GroupNode[];
  checks: Array<{ name: string; path: string; id: string; passes: number; fails: number }>;
}

/** The object k6 passes to handleSummary (the fields scripts read; ids are not k6's hashes). */
export function summaryData(input: SummaryInput): Record<string, unknown> {
  const trendStats = input.trendStats ?? DEFAULT_TREND_STATS;
  const seconds = input.durationMs / 1000;
  const metrics: Record<string, unknown> = {};
  const entry = (
    name: string,
    metric: string,
    filter: Record<string, string>,
  ): Record<string, unknown> => {
    const def = BUILTIN_METRICS[metric];
    const values = input.store.values(metric, filter);
    const out: Record<string, unknown> = {
      type: def.type,
      contains: def.contains,
      values: aggregate(def.type, values, seconds, trendStats),
    };
    const own = input.results.filter((r) => r.key === name);
    if (own.length > 0) {
      out.thresholds = Object.fromEntries(own.map((r) => [r.source, { ok: r.ok }]));
    }
    return out;
  };
  for (const name of input.store.names()) {
    metrics[name] = entry(name, name, {});
  }
  for (const t of input.thresholds) {
    metrics[t.key] = entry(t.key, t.metric, t.filter);
  }
  const root: GroupNode = { name: '', path: '', id: '', groups: [], checks: [] };
  const nodeFor = (groupPath: string): GroupNode => {
    let node = root;
    for (const name of groupPath.split('::').slice(1)) {
      let child = node.groups.find((g) => g.name === name);
      if (!child) {
        child = {
          name,
          path: `${node.path}::${name}`,
          id: `${node.path}::${name}`,
          groups: [],
          checks: [],
        };
        node.groups.push(child);
      }
      node = child;
    }
    return node;
  };
  for (const [groupPath, checks] of input.store.checksByGroup()) {
    const node = nodeFor(groupPath);
    for (const [name, c] of checks) {
      node.checks.push({ name, path: `${groupPath}::${name}`, id: `${groupPath}::${name}`, ...c });
    }
  }
  return {
    root_group: root,
    options: { summaryTrendStats: trendStats, summaryTimeUnit: '', noColor: false },
    state: {
      isStdOutTTY: Boolean(process.stdout.isTTY),
      isStdErrTTY: Boolean(process.stderr.isTTY),
      testRunDurationMs: input.durationMs,
    },
    metrics,
  };
}

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(n < 1 ? 4 : 2));

/** One line per threshold expression: the stand-in always prints this, as k6's ✓/✗ marks. */
export function thresholdTable(results: readonly ThresholdResult[]): string {
  if (results.length === 0) {
    return 'thresholds: none defined';
  }
  const width = Math.max(...results.map((r) => r.key.length), 10);
  const lines = [
    `${'threshold'.padEnd(width)}  ${'expression'.padEnd(12)} ${'actual'.padStart(10)}  result`,
  ];
  for (const r of results) {
    const verdict = r.empty ? 'ok (no samples)' : r.ok ? 'ok' : 'FAILED';
    lines.push(
      `${r.key.padEnd(width)}  ${r.source.padEnd(12)} ${fmt(r.actual).padStart(10)}  ${verdict}`,
    );
  }
  const failed = results.filter((r) => !r.ok).length;
  lines.push(
    failed === 0
      ? `all ${results.length} thresholds passed`
      : `${failed} of ${results.length} thresholds FAILED`,
  );
  return lines.join('\n');
}

/** A short end-of-test summary for scripts without handleSummary (k6 prints a longer one). */
export function metricTable(data: Record<string, unknown>): string {
  const metrics = data.metrics as Record<string, { values: Record<string, number> }>;
  return Object.keys(metrics)
    .sort()
    .map(
      (name) =>
        `  ${name.padEnd(45, '.')} ${Object.entries(metrics[name].values)
          .map(([k, v]) => `${k}=${fmt(v)}`)
          .join(' ')}`,
    )
    .join('\n');
}
