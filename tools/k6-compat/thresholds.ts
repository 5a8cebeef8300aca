/**
 * Thresholds as k6 parses them: the key is a metric name with an optional tag filter
 * (`http_req_duration{endpoint:feed}`), each expression `<aggregation> <operator> <number>` with
 * the aggregations k6 allows for the metric's type (`p(95)<200`, `rate<0.01`, `count>10`).
 */
import {
  aggregate,
  BUILTIN_METRICS,
  trendStat,
  type MetricStore,
  type MetricType,
} from './metrics';
import type { Tags } from './protocol';

type Operator = '<=' | '>=' | '===' | '==' | '!=' | '<' | '>';

const ALLOWED: Record<MetricType, RegExp> = {
  counter: /^(count|rate)$/,
  gauge: /^value$/,
  rate: /^rate$/,
  trend: /^(avg|min|max|med|p\(\d+(\.\d+)?\))$/,
};

export class ThresholdError extends Error {}

export interface ThresholdExpression {
  source: string;
  aggregation: string;
  operator: Operator;
  value: number;
}

export interface Threshold {
  /** the key as written, e.g. `http_req_duration{endpoint:feed}` */
  key: string;
  metric: string;
  type: MetricType;
  filter: Tags;
  expressions: ThresholdExpression[];
}

export function parseThresholdKey(key: string): { metric: string; filter: Tags } {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\{(.*)\})?\s*$/.exec(key);
  if (!m) {
    throw new ThresholdError(`invalid threshold metric "${key}"`);
  }
  const filter: Tags = {};
  if (m[2] !== undefined) {
    for (const part of m[2].split(',')) {
      const colon = part.indexOf(':');
      if (colon <= 0) {
        throw new ThresholdError(`invalid tag filter "${part}" in "${key}"`);
      }
      const tag = part.slice(0, colon).trim();
      const value = part
        .slice(colon + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (!tag || !value) {
        throw new ThresholdError(`invalid tag filter "${part}" in "${key}"`);
      }
      filter[tag] = value;
    }
  }
  return { metric: m[1], filter };
}

export function parseExpression(source: string, type: MetricType): ThresholdExpression {
  const m =
    /^\s*([a-z]+(?:\(\s*\d+(?:\.\d+)?\s*\))?)\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(
      source,
    );
  if (!m) {
    throw new ThresholdError(`invalid threshold expression "${source}"`);
  }
  const aggregation = m[1].replace(/\s+/g, '');
  if (!ALLOWED[type].test(aggregation)) {
    throw new ThresholdError(`"${aggregation}" is not valid for a ${type} metric ("${source}")`);
  }
  return { source, aggregation, operator: m[2] as Operator, value: Number(m[3]) };
}

/** The `thresholds` option: `{ key: [expr | { threshold }] }`. */
export function parseThresholds(raw: unknown): Threshold[] {
  if (raw === undefined) {
    return [];
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ThresholdError('options.thresholds must be an object');
  }
  return Object.entries(raw as Record<string, unknown>).map(([key, list]) => {
    const { metric, filter } = parseThresholdKey(key);
    const known = BUILTIN_METRICS[metric];
    if (!known) {
      throw new ThresholdError(
        `threshold on "${key}": no metric "${metric}" (custom metrics are not implemented)`,
      );
    }
    const items: unknown[] = Array.isArray(list) ? (list as unknown[]) : [list];
    const expressions = items.map((item) => {
      if (typeof item === 'string') {
        return parseExpression(item, known.type);
      }
      const spec = (typeof item === 'object' && item !== null ? item : {}) as {
        threshold?: unknown;
        abortOnFail?: unknown;
      };
      if (typeof spec.threshold !== 'string') {
        throw new ThresholdError(`invalid threshold on "${key}": ${JSON.stringify(item)}`);
      }
      const extra = Object.keys(spec).filter(
        (k) => k !== 'threshold' && !(k === 'abortOnFail' && spec.abortOnFail === false),
      );
      if (extra.length > 0) {
        throw new ThresholdError(
          `threshold option ${extra.join(', ')} on "${key}" is not implemented`,
        );
      }
      return parseExpression(spec.threshold, known.type);
    });
    return { key, metric, type: known.type, filter, expressions };
  });
}

function compare(actual: number, op: Operator, expected: number): boolean {
  switch (op) {
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '==':
    case '===':
      return actual === expected;
    case '!=':
      return actual !== expected;
  }
}

export interface ThresholdResult {
  key: string;
  source: string;
  actual: number;
  ok: boolean;
  /** no sample matched: k6 does not fail a threshold on a metric that received nothing */
  empty: boolean;
}

export function evaluate(
  thresholds: readonly Threshold[],
  store: MetricStore,
  durationSeconds: number,
): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const t of thresholds) {
    const values = store.values(t.metric, t.filter);
    for (const e of t.expressions) {
      const actual =
        t.type === 'trend'
          ? trendStat(
              e.aggregation,
              [...values].sort((a, b) => a - b),
            )
          : aggregate(t.type, values, durationSeconds)[e.aggregation];
      const empty = values.length === 0;
      out.push({
        key: t.key,
        source: e.source,
        actual,
        empty,
        ok: empty || compare(actual, e.operator, e.value),
      });
    }
  }
  return out;
}
