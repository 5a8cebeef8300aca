/**
 * k6's built-in metrics, their samples and what the end-of-test summary computes from them
 * (trend percentiles interpolated as k6's TrendSink does, rates as passes / total).
 */
import type { Sample, Tags } from './protocol';

export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';
export type Contains = 'default' | 'time' | 'data';

/** The metrics k6 v0.47 registers for an HTTP test, with their types. */
export const BUILTIN_METRICS: Record<string, { type: MetricType; contains: Contains }> = {
  checks: { type: 'rate', contains: 'default' },
  data_received: { type: 'counter', contains: 'data' },
  data_sent: { type: 'counter', contains: 'data' },
  dropped_iterations: { type: 'counter', contains: 'default' },
  group_duration: { type: 'trend', contains: 'time' },
  http_req_blocked: { type: 'trend', contains: 'time' },
  http_req_connecting: { type: 'trend', contains: 'time' },
  http_req_duration: { type: 'trend', contains: 'time' },
  http_req_failed: { type: 'rate', contains: 'default' },
  http_req_receiving: { type: 'trend', contains: 'time' },
  http_req_sending: { type: 'trend', contains: 'time' },
  http_req_tls_handshaking: { type: 'trend', contains: 'time' },
  http_req_waiting: { type: 'trend', contains: 'time' },
  http_reqs: { type: 'counter', contains: 'default' },
  iteration_duration: { type: 'trend', contains: 'time' },
  iterations: { type: 'counter', contains: 'default' },
  vus: { type: 'gauge', contains: 'default' },
  vus_max: { type: 'gauge', contains: 'default' },
};

export const DEFAULT_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

/** `p` in [0, 1] over sorted values, as k6's TrendSink.P. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    return 0;
  }
  if (sorted.length === 1) {
    return sorted[0];
  }
  const i = p * (sorted.length - 1);
  const lo = sorted[Math.floor(i)];
  const hi = sorted[Math.ceil(i)];
  return lo + (hi - lo) * (i - Math.floor(i));
}

/** Every aggregate a threshold or the summary can ask of a set of values. */
export function aggregate(
  type: MetricType,
  values: readonly number[],
  durationSeconds: number,
  trendStats: readonly string[] = DEFAULT_TREND_STATS,
): Record<string, number> {
  switch (type) {
    case 'counter': {
      const count = values.reduce((a, b) => a + b, 0);
      return { count, rate: durationSeconds > 0 ? count / durationSeconds : 0 };
    }
    case 'gauge':
      return values.length === 0
        ? { value: 0, min: 0, max: 0 }
        : {
            value: values[values.length - 1],
            min: Math.min(...values),
            max: Math.max(...values),
          };
    case 'rate': {
      const passes = values.filter((v) => v !== 0).length;
      return {
        rate: values.length === 0 ? 0 : passes / values.length,
        passes,
        fails: values.length - passes,
      };
    }
    case 'trend': {
      const sorted = [...values].sort((a, b) => a - b);
      const out: Record<string, number> = {};
      for (const stat of trendStats) {
        out[stat] = trendStat(stat, sorted);
      }
      return out;
    }
  }
}

export function trendStat(stat: string, sorted: readonly number[]): number {
  const n = sorted.length;
  switch (stat) {
    case 'avg':
      return n === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / n;
    case 'min':
      return n === 0 ? 0 : sorted[0];
    case 'max':
      return n === 0 ? 0 : sorted[n - 1];
    case 'med':
      return percentile(sorted, 0.5);
    case 'count':
      return n;
    default: {
      const m = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
      if (!m) {
        throw new Error(`unknown trend statistic "${stat}"`);
      }
      return percentile(sorted, Number(m[1]) / 100);
    }
  }
}

/** All samples of a run, kept (as k6 keeps every trend value) so sub-metrics can be cut later. */
export class MetricStore {
  private readonly samples = new Map<string, Array<{ value: number; tags: Tags }>>();

  add(batch: readonly Sample[]): void {
    for (const s of batch) {
      if (!(s.metric in BUILTIN_METRICS)) {
        throw new Error(`k6-compat: sample for unknown metric "${s.metric}"`);
      }
      let list = this.samples.get(s.metric);
      if (!list) {
        list = [];
        this.samples.set(s.metric, list);
      }
      list.push({ value: s.value, tags: s.tags });
    }
  }

  names(): string[] {
    return [...this.samples.keys()].sort();
  }

  /** Values of a metric, optionally only the samples carrying every tag of `filter`. */
  values(metric: string, filter: Tags = {}): number[] {
    const keys = Object.keys(filter);
    const out: number[] = [];
    for (const s of this.samples.get(metric) ?? []) {
      if (keys.every((k) => s.tags[k] === filter[k])) {
        out.push(s.value);
      }
    }
    return out;
  }

  /** Check pass/fail counts per group path and check name, for the summary's root_group. */
  checksByGroup(): Map<string, Map<string, { passes: number; fails: number }>> {
    const out = new Map<string, Map<string, { passes: number; fails: number }>>();
    for (const s of this.samples.get('checks') ?? []) {
      const group = s.tags.group ?? '';
      let checks = out.get(group);
      if (!checks) {
        checks = new Map();
        out.set(group, checks);
      }
      const c = checks.get(s.tags.check) ?? { passes: 0, fails: 0 };
      if (s.value !== 0) {
        c.passes++;
      } else {
        c.fails++;
      }
      checks.set(s.tags.check, c);
    }
    return out;
  }
}
