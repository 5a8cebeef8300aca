/**
 * An open-loop load generator: requests leave on a fixed schedule (request i at i/rate seconds)
 * whether or not earlier ones have been answered, so a slow system meets the same offered load
 * instead of quietly receiving less (coordinated omission). Latency is measured from the
 * scheduled send time, so time the generator spent behind schedule counts against the system
 * only as far as it really happened, and that lag is measured too: when it grows, the generator
 * (which shares the machine's cores with the stack) is the limit, not the system.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { percentile } from './stats';

/** How an answer counts: 2xx is goodput; 429/503 is load shed as designed; the rest is bad. */
export type Outcome = 'ok' | 'shed' | 'bad';

/** The client gave up waiting (`timeoutMs` after the send). */
export const TIMEOUT = 'timeout';

/**
 * The key an answer is counted under (its status, `timeout`, or the socket error's code) and its
 * outcome.
 */
export function classify(answer: { status?: number; error?: unknown }): {
  key: string;
  outcome: Outcome;
} {
  if (answer.status !== undefined) {
    const s = answer.status;
    return {
      key: String(s),
      outcome: s >= 200 && s < 300 ? 'ok' : s === 429 || s === 503 ? 'shed' : 'bad',
    };
  }
  const e = answer.error as { code?: unknown; name?: unknown } | undefined;
  if (e?.name === 'AbortError' || e?.code === 'ABORT_ERR') {
    return { key: TIMEOUT, outcome: 'bad' };
  }
  return { key: typeof e?.code === 'string' ? e.code : 'error', outcome: 'bad' };
}

/** Milliseconds after the start at which request `i` (from 0) is due. */
export const dueAt = (i: number, rate: number): number => (i * 1000) / rate;

/** How many requests are due `elapsedMs` after the start (request 0 is due at once). */
export function dueBy(elapsedMs: number, rate: number, total: number): number {
  if (elapsedMs < 0) {
    return 0;
  }
  // the epsilon keeps dueBy(dueAt(i)) > i despite rounding in i * 1000 / rate * rate / 1000
  return Math.min(total, Math.floor((elapsedMs * rate) / 1000 + 1e-9) + 1);
}

/** Requests sent by a run of `durationMs` at `rate` per second. */
export const plannedCount = (rate: number, durationMs: number): number =>
  Math.max(1, Math.round((rate * durationMs) / 1000));

export interface OpenLoopRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** what the answer is tallied under (the k6 endpoint tag) */
  tag: string;
}

export interface Sample {
  tag: string;
  /** scheduled send, ms after the start */
  scheduledMs: number;
  /** actual send minus scheduled send, ms */
  lagMs: number;
  /** end of the answer (or the error) minus the scheduled send, ms */
  latencyMs: number;
  key: string;
  outcome: Outcome;
}

export interface OpenLoopOptions {
  /** e.g. http://127.0.0.1:8080 */
  base: string;
  rate: number;
  durationMs: number;
  next: () => OpenLoopRequest;
  agent: Agent;
  timeoutMs: number;
}

export interface OpenLoopRun {
  samples: Sample[];
  /** wall time from the first scheduled send to the last answer, ms */
  elapsedMs: number;
  /** CPU time this process used during the run, as a share of one core */
  cpuShare: number;
  /** most requests in flight at once (sockets in use plus requests queued for one) */
  peakInFlight: number;
}

/**
 * A bounded pool of keep-alive sockets: enough that the pool is not what limits a run (Little's
 * law: in flight = rate × latency), few enough not to exhaust the machine's ports.
 */
export const openLoopAgent = (maxSockets = 2048): Agent =>
  new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });

/** Go's net/http, as k6 uses it: a POST or PUT without a body says `Content-Length: 0`. */
function lengthHeader(method: string, body?: string): Record<string, string> {
  if (body !== undefined) {
    return { 'Content-Length': String(Buffer.byteLength(body)) };
  }
  return method === 'POST' || method === 'PUT' || method === 'PATCH'
    ? { 'Content-Length': '0' }
    : {};
}

/** Send `rate` requests per second for `durationMs` on schedule; resolves once all are answered. */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopRun> {
  const { rate, durationMs, agent, timeoutMs } = options;
  const target = new URL(options.base);
  const total = plannedCount(rate, durationMs);
  const samples: Sample[] = [];
  let inFlight = 0;
  let peakInFlight = 0;
  let allSent = false;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const cpuBefore = process.cpuUsage();
  const start = performance.now();

  const send = (i: number): void => {
    const scheduledMs = dueAt(i, rate);
    const spec = options.next();
    const sentMs = performance.now() - start;
    let done = false;
    const settle = (answer: { status?: number; error?: unknown }): void => {
      if (done) {
        return;
      }
      done = true;
      samples.push({
        tag: spec.tag,
        scheduledMs,
        lagMs: Math.max(0, sentMs - scheduledMs),
        latencyMs: performance.now() - start - scheduledMs,
        ...classify(answer),
      });
      inFlight--;
      if (allSent && inFlight === 0) {
        finish();
      }
    };
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: spec.method,
        path: spec.path,
        headers: { ...spec.headers, ...lengthHeader(spec.method, spec.body) },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        res.on('error', (error) => settle({ error }));
        res.on('end', () => settle({ status: res.statusCode }));
        res.resume();
      },
    );
    req.on('error', (error) => settle({ error }));
    req.end(spec.body);
  };

  let sent = 0;
  while (sent < total) {
    const due = dueBy(performance.now() - start, rate, total);
    while (sent < due) {
      send(sent++);
    }
    if (sent >= total) {
      break;
    }
    const wait = dueAt(sent, rate) - (performance.now() - start);
    // timers have millisecond granularity: sleep whole milliseconds, then yield until due
    await new Promise<void>((resolve) =>
      wait >= 1 ? setTimeout(resolve, Math.floor(wait)) : setImmediate(resolve),
    );
  }
  allSent = true;
  if (inFlight > 0) {
    await finished;
  }
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    samples,
    elapsedMs,
    cpuShare: (cpu.user + cpu.system) / 1000 / elapsedMs,
    peakInFlight,
  };
}

/** Counts and latencies of a set of samples. */
export interface Tally {
  count: number;
  ok: number;
  shed: number;
  bad: number;
  /** answers per key: status code, `timeout`, or socket error code */
  byKey: Record<string, number>;
  /** latency percentiles over every answer (as k6's http_req_duration), ms */
  p50: number;
  p80: number;
  p95: number;
  p99: number;
  max: number;
}

export function tally(samples: readonly Sample[]): Tally {
  const byKey: Record<string, number> = {};
  const counts = { ok: 0, shed: 0, bad: 0 };
  for (const s of samples) {
    byKey[s.key] = (byKey[s.key] ?? 0) + 1;
    counts[s.outcome]++;
  }
  const latencies = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  return {
    count: samples.length,
    ...counts,
    byKey,
    p50: percentile(latencies, 50),
    p80: percentile(latencies, 80),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.length > 0 ? latencies[latencies.length - 1] : NaN,
  };
}

/** A run's samples from `fromMs` (after a warm-up) on, overall and per tag, and the send lag. */
export interface Window {
  /** seconds of schedule the window covers */
  seconds: number;
  all: Tally;
  byTag: Record<string, Tally>;
  lagP99: number;
  lagMax: number;
}

export function window(samples: readonly Sample[], fromMs: number, toMs: number): Window {
  const inside = samples.filter((s) => s.scheduledMs >= fromMs && s.scheduledMs < toMs);
  const tags = [...new Set(inside.map((s) => s.tag))].sort();
  const lags = inside.map((s) => s.lagMs).sort((a, b) => a - b);
  return {
    seconds: (toMs - fromMs) / 1000,
    all: tally(inside),
    byTag: Object.fromEntries(tags.map((t) => [t, tally(inside.filter((s) => s.tag === t))])),
    lagP99: percentile(lags, 99),
    lagMax: lags.length > 0 ? lags[lags.length - 1] : NaN,
  };
}
