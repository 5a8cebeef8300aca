/**
 * The parts of k6's `options` the stand-in runs: `scenarios` (six executors), the `vus` /
 * `iterations` / `duration` / `stages` shortcuts, `thresholds` and `summaryTrendStats`. Any
 * other option, executor or executor field is rejected, naming what is not implemented.
 */
import { parseDuration } from './k6-api';
import type { Tags } from './protocol';

export class OptionsError extends Error {}

export interface Stage {
  target: number;
  durationMs: number;
}

interface Common {
  name: string;
  exec: string;
  startTimeMs: number;
  gracefulStopMs: number;
  tags: Tags;
}

export type Scenario = Common &
  (
    | {
        executor: 'shared-iterations' | 'per-vu-iterations';
        vus: number;
        iterations: number;
        maxDurationMs: number;
      }
    | { executor: 'constant-vus'; vus: number; durationMs: number }
    | { executor: 'ramping-vus'; startVUs: number; stages: Stage[]; gracefulRampDownMs: number }
    | {
        executor: 'constant-arrival-rate';
        rate: number;
        timeUnitMs: number;
        durationMs: number;
        preAllocatedVUs: number;
        maxVUs: number;
      }
    | {
        executor: 'ramping-arrival-rate';
        startRate: number;
        timeUnitMs: number;
        stages: Stage[];
        preAllocatedVUs: number;
        maxVUs: number;
      }
  );

const COMMON = ['executor', 'exec', 'startTime', 'gracefulStop', 'tags'];
const FIELDS: Record<Scenario['executor'], string[]> = {
  'shared-iterations': ['vus', 'iterations', 'maxDuration'],
  'per-vu-iterations': ['vus', 'iterations', 'maxDuration'],
  'constant-vus': ['vus', 'duration'],
  'ramping-vus': ['startVUs', 'stages', 'gracefulRampDown'],
  'constant-arrival-rate': ['rate', 'timeUnit', 'duration', 'preAllocatedVUs', 'maxVUs'],
  'ramping-arrival-rate': ['startRate', 'timeUnit', 'stages', 'preAllocatedVUs', 'maxVUs'],
};
const TOP_LEVEL = [
  'scenarios',
  'thresholds',
  'vus',
  'iterations',
  'duration',
  'stages',
  'summaryTrendStats',
];

function int(raw: unknown, what: string, min: number, fallback?: number): number {
  const n = raw === undefined ? fallback : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
    throw new OptionsError(`${what} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function duration(raw: unknown, what: string, fallback?: string): number {
  const v = raw === undefined ? fallback : raw;
  if (v === undefined) {
    throw new OptionsError(`${what} is required`);
  }
  try {
    return parseDuration(v);
  } catch (error) {
    throw new OptionsError(`${what}: ${(error as Error).message}`);
  }
}

function stages(raw: unknown, what: string): Stage[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new OptionsError(`${what} must be a non-empty array`);
  }
  return raw.map((s: { target?: unknown; duration?: unknown }, i) => ({
    target: int(s.target, `${what}[${i}].target`, 0),
    durationMs: duration(s.duration, `${what}[${i}].duration`),
  }));
}

export function parseScenario(name: string, raw: Record<string, unknown>): Scenario {
  const executor = raw.executor as Scenario['executor'];
  const fields = FIELDS[executor];
  if (!fields) {
    throw new OptionsError(
      `scenario "${name}": executor "${String(raw.executor)}" is not implemented`,
    );
  }
  const unknown = Object.keys(raw).filter((k) => !COMMON.includes(k) && !fields.includes(k));
  if (unknown.length > 0) {
    throw new OptionsError(
      `scenario "${name}": ${unknown.join(', ')} not implemented for ${executor}`,
    );
  }
  const tags: Tags = {};
  for (const [k, v] of Object.entries((raw.tags as Record<string, unknown> | undefined) ?? {})) {
    tags[k] = String(v);
  }
  const common: Common = {
    name,
    exec: typeof raw.exec === 'string' ? raw.exec : 'default',
    startTimeMs: duration(raw.startTime, `${name}.startTime`, '0s'),
    gracefulStopMs: duration(raw.gracefulStop, `${name}.gracefulStop`, '30s'),
    tags,
  };
  const w = `scenario "${name}"`;
  switch (executor) {
    case 'shared-iterations':
    case 'per-vu-iterations':
      return {
        ...common,
        executor,
        vus: int(raw.vus, `${w} vus`, 1, 1),
        iterations: int(raw.iterations, `${w} iterations`, 1, 1),
        maxDurationMs: duration(raw.maxDuration, `${w} maxDuration`, '10m'),
      };
    case 'constant-vus':
      return {
        ...common,
        executor,
        vus: int(raw.vus, `${w} vus`, 1, 1),
        durationMs: duration(raw.duration, `${w} duration`),
      };
    case 'ramping-vus':
      return {
        ...common,
        executor,
        startVUs: int(raw.startVUs, `${w} startVUs`, 0, 1),
        stages: stages(raw.stages, `${w} stages`),
        gracefulRampDownMs: duration(raw.gracefulRampDown, `${w} gracefulRampDown`, '30s'),
      };
    case 'constant-arrival-rate': {
      const preAllocatedVUs = int(raw.preAllocatedVUs, `${w} preAllocatedVUs`, 1);
      return {
        ...common,
        executor,
        rate: int(raw.rate, `${w} rate`, 1),
        timeUnitMs: duration(raw.timeUnit, `${w} timeUnit`, '1s'),
        durationMs: duration(raw.duration, `${w} duration`),
        preAllocatedVUs,
        maxVUs: Math.max(preAllocatedVUs, int(raw.maxVUs, `${w} maxVUs`, 1, preAllocatedVUs)),
      };
    }
    case 'ramping-arrival-rate': {
      const preAllocatedVUs = int(raw.preAllocatedVUs, `${w} preAllocatedVUs`, 1);
      return {
        ...common,
        executor,
        startRate: int(raw.startRate, `${w} startRate`, 0, 0),
        timeUnitMs: duration(raw.timeUnit, `${w} timeUnit`, '1s'),
        stages: stages(raw.stages, `${w} stages`),
        preAllocatedVUs,
        maxVUs: Math.max(preAllocatedVUs, int(raw.maxVUs, `${w} maxVUs`, 1, preAllocatedVUs)),
      };
    }
  }
}

export interface RunOptions {
  scenarios: Scenario[];
  thresholds: unknown;
  summaryTrendStats?: string[];
}

/** Normalize exported options the way k6 does, shortcuts included. */
export function parseOptions(raw: Record<string, unknown>): RunOptions {
  const unknown = Object.keys(raw).filter((k) => !TOP_LEVEL.includes(k));
  if (unknown.length > 0) {
    throw new OptionsError(`option(s) ${unknown.join(', ')} not implemented`);
  }
  const shortcuts = ['vus', 'iterations', 'duration', 'stages'].filter((k) => raw[k] !== undefined);
  let scenarios: Record<string, Record<string, unknown>>;
  if (raw.scenarios !== undefined) {
    if (shortcuts.length > 0) {
      throw new OptionsError(`scenarios together with ${shortcuts.join(', ')} is not implemented`);
    }
    scenarios = raw.scenarios as Record<string, Record<string, unknown>>;
  } else if (raw.stages !== undefined) {
    scenarios = {
      default: { executor: 'ramping-vus', startVUs: raw.vus ?? 1, stages: raw.stages },
    };
  } else if (raw.iterations !== undefined) {
    scenarios = {
      default: { executor: 'shared-iterations', vus: raw.vus ?? 1, iterations: raw.iterations },
    };
  } else if (raw.duration !== undefined) {
    scenarios = {
      default: { executor: 'constant-vus', vus: raw.vus ?? 1, duration: raw.duration },
    };
  } else {
    scenarios = { default: { executor: 'shared-iterations', vus: raw.vus ?? 1, iterations: 1 } };
  }
  const list = Object.entries(scenarios).map(([name, s]) => parseScenario(name, s));
  if (list.length === 0) {
    throw new OptionsError('no scenarios');
  }
  const trend = raw.summaryTrendStats;
  if (trend !== undefined && (!Array.isArray(trend) || trend.some((s) => typeof s !== 'string'))) {
    throw new OptionsError('summaryTrendStats must be an array of strings');
  }
  return {
    scenarios: list,
    thresholds: raw.thresholds,
    summaryTrendStats: trend as string[] | undefined,
  };
}

/** Iterations an arrival-rate scenario should have started `ms` after its start. */
export function arrivals(s: Scenario, ms: number): number {
  if (s.executor === 'constant-arrival-rate') {
    return (s.rate * Math.min(ms, s.durationMs)) / s.timeUnitMs;
  }
  if (s.executor !== 'ramping-arrival-rate') {
    return 0;
  }
  let total = 0;
  let from = s.startRate;
  let t = 0;
  for (const stage of s.stages) {
    const span = Math.min(stage.durationMs, Math.max(0, ms - t));
    if (span > 0 && stage.durationMs > 0) {
      const rateAtEnd = from + ((stage.target - from) * span) / stage.durationMs;
      total += (((from + rateAtEnd) / 2) * span) / s.timeUnitMs;
    }
    t += stage.durationMs;
    from = stage.target;
  }
  return total;
}

/** Total planned time of a scenario (without graceful stop). */
export function plannedMs(s: Scenario): number {
  switch (s.executor) {
    case 'shared-iterations':
    case 'per-vu-iterations':
      return s.maxDurationMs;
    case 'constant-vus':
    case 'constant-arrival-rate':
      return s.durationMs;
    case 'ramping-vus':
    case 'ramping-arrival-rate':
      return s.stages.reduce((a, st) => a + st.durationMs, 0);
  }
}

/** Target VUs of a ramping-vus scenario `ms` after its start (linear within a stage). */
export function rampingTarget(s: Scenario & { executor: 'ramping-vus' }, ms: number): number {
  let from = s.startVUs;
  let t = 0;
  for (const stage of s.stages) {
    if (ms < t + stage.durationMs) {
      return Math.round(from + ((stage.target - from) * (ms - t)) / stage.durationMs);
    }
    t += stage.durationMs;
    from = stage.target;
  }
  return from;
}
