/**
 * 2. Stampede: a hot key with a short TTL read by several processes for a while, its load taking
 * ≥ loadMs: source loads and read latency for naive cache-aside, single flight, and single
 * flight + XFetch. Each process is a child of this module (forked, driven over IPC).
 */
import { fork } from 'node:child_process';
import { Cache } from '@murmur/cache';
import { cacheLoadsTotal } from '@murmur/cache';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { percentile, runClosedLoop } from '../stats';
import { type Column, markdownTable, section } from './report';
import {
  type BenchContext,
  connect,
  counterTotal,
  type Endpoints,
  fmt,
  log,
  PROFILE_SQL,
  type Profile,
} from './common';

type StampedeMode = 'naive' | 'single-flight' | 'single-flight+xfetch';
const STAMPEDE_MODES: StampedeMode[] = ['naive', 'single-flight', 'single-flight+xfetch'];

export interface StampedeOptions {
  processes: number;
  readers: number;
  seconds: number;
  ttlSeconds: number;
  loadMs: number;
}

interface StampedeJob extends Omit<StampedeOptions, 'processes'> {
  mode: StampedeMode;
  /** the cache's name (the naive mode keys its own copy by it) */
  name: string;
  /** the user whose profile the hot key holds */
  id: string;
  endpoints: Endpoints;
}

interface ChildResult {
  loads: number;
  /** loads a reader waited for (misses), against early refreshes in the background */
  blocking: number;
  background: number;
  latencies: number[];
  errors: number;
}

type ChildMessage = { ready: true } | ChildResult | { error: string };

export interface StampedeRow {
  mode: StampedeMode;
  reads: number;
  seconds: number;
  loads: number;
  blocking: number;
  background: number;
  expectedExpiries: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

/** The expensive query a hot key stands for (a ranking, an aggregate): ≥ loadMs on the replica. */
function stampedeLoader(pool: Pool, job: StampedeJob, onLoad: () => void) {
  return async (): Promise<Profile | null> => {
    onLoad();
    const { rows } = await pool.query<Profile>(
      `SELECT p.*, pg_sleep($2::float8 / 1000) FROM (${PROFILE_SQL} WHERE id = $1) p`,
      [job.id, job.loadMs],
    );
    return rows[0] ?? null;
  };
}

/** One read of the hot key as the mode does it, and how to forget the key after the run. */
function stampedeReader(
  job: StampedeJob,
  redis: Redis,
  load: () => Promise<Profile | null>,
): { read: () => Promise<unknown>; clear: () => Promise<unknown> } {
  if (job.mode === 'naive') {
    // Textbook cache-aside: GET; on a miss every reader loads and SETs.
    const key = `bench-naive:${job.name}`;
    const read = async (): Promise<unknown> => {
      const hit = await redis.get(key);
      if (hit !== null) {
        return JSON.parse(hit) as Profile;
      }
      const value = await load();
      await redis.set(key, JSON.stringify(value), 'PX', job.ttlSeconds * 1000);
      return value;
    };
    return { read, clear: () => redis.del(key) };
  }
  const cache = new Cache<Profile>({
    name: job.name,
    ttlSeconds: job.ttlSeconds,
    negativeTtlSeconds: 0,
    // L1 off: every read goes to L2, as a key shared by many processes does once L1 expires.
    l1: { enabled: false, maxEntries: 1 },
    l2: redis,
    xfetchBeta: job.mode === 'single-flight+xfetch' ? 1 : 0,
  });
  return { read: () => cache.getOrSet('hot', load), clear: () => cache.delete('hot') };
}

/** One process of the stampede: connects, says ready, and on "go" runs its readers. */
async function child(job: StampedeJob): Promise<ChildResult> {
  const { pool, redis } = await connect(job.endpoints, 10);
  let loads = 0;
  const { read } = stampedeReader(
    job,
    redis,
    stampedeLoader(pool, job, () => loads++),
  );
  const go = new Promise((resolve) => process.once('message', resolve));
  process.send?.({ ready: true } satisfies ChildMessage);
  await go;
  const loop = await runClosedLoop(job.readers, job.seconds * 1000, read);
  // let background (XFetch) loads that started in the window finish before counting
  await new Promise((r) => setTimeout(r, job.loadMs * 3));
  await pool.end();
  redis.disconnect();
  const background =
    job.mode === 'naive'
      ? 0
      : await counterTotal(cacheLoadsTotal, { cache: job.name, outcome: 'early' });
  return {
    loads,
    blocking: loads - background,
    background,
    latencies: loop.latencies,
    errors: loop.errors,
  };
}

function startChild(job: StampedeJob): {
  ready: Promise<void>;
  go: () => void;
  result: Promise<ChildResult>;
} {
  const proc = fork(__filename, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const result = new Promise<ChildResult>((resolve, reject) => {
    let done: ChildResult | undefined;
    proc.on('message', (m: ChildMessage) => {
      if ('ready' in m) {
        markReady();
      } else if ('error' in m) {
        reject(new Error(m.error));
      } else {
        done = m;
      }
    });
    proc.on('exit', (code) =>
      done ? resolve(done) : reject(new Error(`stampede child exited with ${code}`)),
    );
  });
  // a child that fails before it is ready must not leave the parent waiting
  result.catch(() => markReady());
  proc.send(job);
  return { ready, go: () => void (proc.connected && proc.send('go')), result };
}

const sum = (rs: ChildResult[], pick: (r: ChildResult) => number): number =>
  rs.reduce((s, r) => s + pick(r), 0);

export async function stampede(
  ctx: BenchContext,
  options: StampedeOptions,
): Promise<StampedeRow[]> {
  const out: StampedeRow[] = [];
  for (const mode of STAMPEDE_MODES) {
    const name = `bench-stampede-${mode.replace(/[^a-z]/g, '')}-${ctx.run}`;
    const job: StampedeJob = { ...options, mode, name, id: ctx.ids[0], endpoints: ctx.endpoints };
    log(
      `stampede: ${mode}, ${options.processes} processes × ${options.readers} readers, ` +
        `TTL ${options.ttlSeconds} s, load ≥ ${options.loadMs} ms, ${options.seconds} s …`,
    );
    const children = Array.from({ length: options.processes }, () => startChild(job));
    await Promise.all(children.map((c) => c.ready));
    // The key is hot when the run starts: the first, cold load is not part of the figures.
    const here = stampedeReader(
      job,
      ctx.redis,
      stampedeLoader(ctx.pool, job, () => undefined),
    );
    await here.read();
    children.forEach((c) => c.go());
    const results = await Promise.all(children.map((c) => c.result));
    const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const row: StampedeRow = {
      mode,
      reads: latencies.length,
      seconds: options.seconds,
      loads: sum(results, (r) => r.loads),
      blocking: sum(results, (r) => r.blocking),
      background: sum(results, (r) => r.background),
      expectedExpiries: options.seconds / options.ttlSeconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1] ?? NaN,
      errors: sum(results, (r) => r.errors),
    };
    log(
      `  ${fmt(row.reads / row.seconds)} reads/s, ${row.loads} source loads, p99 ${row.p99.toFixed(1)} ms, max ${row.max.toFixed(1)} ms`,
    );
    out.push(row);
    await here.clear();
  }
  return out;
}

export function stampedeSection(rows: StampedeRow[], o: StampedeOptions): string {
  const columns: Array<Column<StampedeRow>> = [
    { head: 'mode', cell: (r) => r.mode },
    { head: 'reads/s', numeric: true, cell: (r) => fmt(r.reads / r.seconds) },
    { head: 'source loads', numeric: true, cell: (r) => String(r.loads) },
    {
      head: 'loads per TTL period',
      numeric: true,
      cell: (r) => (r.loads / r.expectedExpiries).toFixed(1),
    },
    { head: 'of which readers waited for', numeric: true, cell: (r) => String(r.blocking) },
    { head: 'in the background', numeric: true, cell: (r) => String(r.background) },
    { head: 'p50 ms', numeric: true, cell: (r) => r.p50.toFixed(2) },
    { head: 'p99 ms', numeric: true, cell: (r) => r.p99.toFixed(1) },
    { head: 'max ms', numeric: true, cell: (r) => r.max.toFixed(1) },
    { head: 'errors', numeric: true, cell: (r) => String(r.errors) },
  ];
  return section(
    '2. Stampede: one hot key expiring under load',
    [
      `${o.processes} processes × ${o.readers} readers of one key for ${o.seconds} s; TTL ${o.ttlSeconds} s`,
      '(±10% jitter in @murmur/cache, none in the naive mode); each load is the profile query plus',
      `pg_sleep(${o.loadMs} ms), an expensive query. "Loads per TTL period" divides by`,
      `${o.seconds}/${o.ttlSeconds} periods; L1 is off here.`,
    ],
    markdownTable(columns, rows),
  );
}

// A forked child: wait for its job, run it, report, exit.
if (require.main === module) {
  process.once('message', (job: StampedeJob) => {
    child(job)
      .then((r) => process.send?.(r, () => process.exit(0)))
      .catch((error: unknown) =>
        process.send?.({ error: error instanceof Error ? error.message : String(error) }, () =>
          process.exit(1),
        ),
      );
  });
}
