/**
 * `npm run bench:cache`: what each layer of @murmur/cache buys, measured in one run against the
 * dev stack's own Redis and Postgres (main replica). Needs `npm start` (or `npm run stack:up`)
 * and `npm run seed` first. Six parts:
 *  1. layers: reads/s and latency of an L1 hit, an L2 hit and a source read (replica), closed loop;
 *  2. stampede: a hot key with a 2 s TTL read by several processes for a while, its load taking
 *     ≥ 50 ms: source loads and read latency for naive cache-aside, single flight, and single
 *     flight + XFetch;
 *  3. Zipf: hit ratios per layer over 100,000 keys with a small L1, at two skews;
 *  4. multi-get: a page of keys in one MGET against one GET per key;
 *  5. a hung cache Redis (SIGSTOP of a private redis-server) under load: reads keep answering;
 *  6. per-request costs: a session lookup and a rate-limit check.
 * Writes bench/results/<date>-<machine>-cache.md and prints it.
 *   npm run bench:cache -- --seconds 5 --stampede-seconds 10 --processes 4 --zipf-requests 200000
 */
import { fork, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SessionStore } from '@murmur/auth';
import { Cache } from '@murmur/cache';
import { cacheLoadsTotal, cacheRequestsTotal } from '@murmur/observability';
import { SlidingWindowLimiter } from '@murmur/rate-limit';
import { createRedis } from '@murmur/redis';
import { buildTopology } from '@murmur/stack';
import type { Redis } from 'ioredis';
import { Pool } from 'pg';
import { percentile, runClosedLoop, zipfSampler, zipfTopShare, type LoopResult } from './stats';

/** The profile columns the user service caches (see services/user/src/users/users.repository). */
const PROFILE_SQL = `SELECT id::text AS id, username, email, display_name, bio, follower_count,
  following_count, created_at, updated_at FROM users`;
type Profile = Record<string, unknown>;

const log = (line: string): void => void process.stderr.write(`[bench:cache] ${line}\n`);
const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : '–';
const pct = (n: number): string => (Number.isFinite(n) ? `${(100 * n).toFixed(1)}%` : '–');

interface Endpoints {
  redisUrl: string;
  dataRedisUrl: string;
  replicaUrl: string;
}

function endpoints(): Endpoints {
  const t = buildTopology({ profile: 'dev' });
  const cache = t.redis.find((r) => r.purpose === 'cache');
  const data = t.redis.find((r) => r.purpose === 'queue');
  const replica = t.postgres.find((p) => p.cluster === 'main' && p.role === 'replica');
  if (!cache || !data || !replica) {
    throw new Error('the dev topology has no cache Redis or main replica');
  }
  return {
    redisUrl: `redis://127.0.0.1:${cache.port}`,
    dataRedisUrl: `redis://127.0.0.1:${data.port}`,
    replicaUrl: `postgres://${t.database.user}@127.0.0.1:${replica.port}/${t.database.name}`,
  };
}

async function connect(e: Endpoints, poolSize: number): Promise<{ pool: Pool; redis: Redis }> {
  const pool = new Pool({ connectionString: e.replicaUrl, max: poolSize });
  const redis = createRedis(e.redisUrl, 'cache', 'bench-cache');
  try {
    await pool.query('SELECT 1');
    if (redis.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        redis.once('ready', resolve);
        setTimeout(() => reject(new Error(`no Redis at ${e.redisUrl}`)), 3_000).unref();
      });
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    redis.disconnect();
    throw new Error(
      `the dev stack is not reachable (${error instanceof Error ? error.message : String(error)}): ` +
        'run `npm start` (or `npm run stack:up`) and `npm run seed` first',
    );
  }
  return { pool, redis };
}

/** A counter's total over the samples whose labels match (this process's registry). */
async function counterTotal(
  counter: typeof cacheLoadsTotal | typeof cacheRequestsTotal,
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) =>
      Object.entries(labels).every(([k, want]) => String(v.labels[k as never]) === want),
    )
    .reduce((sum, v) => sum + v.value, 0);
}

// ---------------------------------------------------------------- 1. layers

interface LayerRow {
  layer: string;
  result: LoopResult;
  loads: number;
}

async function layers(
  pool: Pool,
  redis: Redis,
  ids: string[],
  run: string,
  seconds: number,
  concurrency: number,
): Promise<LayerRow[]> {
  const { rows } = await pool.query<Profile>(`${PROFILE_SQL} WHERE id = ANY($1::bigint[])`, [ids]);
  const byId = new Map(rows.map((r) => [String(r.id), r]));
  const pick = (): string => ids[Math.floor(Math.random() * ids.length)];
  const source = (id: string): Promise<Profile | null> =>
    pool.query<Profile>(`${PROFILE_SQL} WHERE id = $1`, [id]).then((r) => r.rows[0] ?? null);

  const l1 = new Cache<Profile>({
    name: `bench-l1-${run}`,
    ttlSeconds: 3_600,
    negativeTtlSeconds: 0,
    l1: { enabled: true, maxEntries: ids.length * 2 },
  });
  const l2 = new Cache<Profile>({
    name: `bench-l2-${run}`,
    ttlSeconds: 3_600,
    negativeTtlSeconds: 0,
    l1: { enabled: false, maxEntries: 1 },
    l2: redis,
  });
  await l1.warm([...byId]);
  await l2.warm([...byId]);

  const out: LayerRow[] = [];
  const measure = async (
    layer: string,
    op: (loader: (id: string) => Promise<Profile | null>) => Promise<unknown>,
  ): Promise<void> => {
    let loads = 0;
    const counted = (id: string): Promise<Profile | null> => {
      loads++;
      return source(id);
    };
    log(`layers: ${layer}, ${concurrency} concurrent readers for ${seconds} s …`);
    const result = await runClosedLoop(concurrency, seconds * 1000, () => op(counted));
    log(
      `  ${fmt(result.rps)} reads/s, p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms`,
    );
    out.push({ layer, result, loads });
  };
  await measure('source (replica, by primary key)', (load) => load(pick()));
  await measure('L2 hit (Redis GET + JSON parse)', (load) => {
    const id = pick();
    return l2.getOrSet(id, () => load(id));
  });
  await measure('L1 hit (in-process LRU)', (load) => {
    const id = pick();
    return l1.getOrSet(id, () => load(id));
  });
  await redis.del(...ids.map((id) => `cache:bench-l2-${run}:${id}`));
  return out;
}

// ---------------------------------------------------------------- 2. stampede

type StampedeMode = 'naive' | 'single-flight' | 'single-flight+xfetch';
const STAMPEDE_MODES: StampedeMode[] = ['naive', 'single-flight', 'single-flight+xfetch'];

interface StampedeJob {
  mode: StampedeMode;
  key: string;
  id: string;
  ttlSeconds: number;
  seconds: number;
  readers: number;
  loadMs: number;
}

interface StampedeChildResult {
  loads: number;
  /** loads a reader waited for (misses), against early refreshes in the background */
  blocking: number;
  background: number;
  latencies: number[];
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

/** One read of the hot key, as the mode does it. */
function stampedeReader(
  job: StampedeJob,
  redis: Redis,
  load: () => Promise<Profile | null>,
): () => Promise<unknown> {
  if (job.mode === 'naive') {
    // Textbook cache-aside: GET; on a miss every reader loads and SETs.
    return async () => {
      const hit = await redis.get(job.key);
      if (hit !== null) {
        return JSON.parse(hit) as Profile;
      }
      const value = await load();
      await redis.set(job.key, JSON.stringify(value), 'PX', job.ttlSeconds * 1000);
      return value;
    };
  }
  const cache = new Cache<Profile>({
    name: job.key,
    ttlSeconds: job.ttlSeconds,
    negativeTtlSeconds: 0,
    // L1 off: every read goes to L2, as a key shared by many processes does once L1 expires.
    l1: { enabled: false, maxEntries: 1 },
    l2: redis,
    xfetchBeta: job.mode === 'single-flight+xfetch' ? 1 : 0,
  });
  return () => cache.getOrSet('hot', load);
}

type ChildMessage = { ready: true } | StampedeChildResult | { error: string };

/**
 * One process of the stampede: connects, says ready, and on "go" runs `readers` concurrent
 * readers of the hot key for the run's length.
 */
async function stampedeChild(job: StampedeJob, e: Endpoints): Promise<StampedeChildResult> {
  const { pool, redis } = await connect(e, 10);
  let loads = 0;
  const read = stampedeReader(
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
      : await counterTotal(cacheLoadsTotal, { cache: job.key, outcome: 'early' });
  return {
    loads,
    blocking: loads - background,
    background,
    latencies: loop.latencies,
    errors: loop.errors,
  };
}

interface StampedeRow {
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

async function stampede(
  pool: Pool,
  redis: Redis,
  id: string,
  run: string,
  options: {
    processes: number;
    readers: number;
    seconds: number;
    ttlSeconds: number;
    loadMs: number;
  },
): Promise<StampedeRow[]> {
  const out: StampedeRow[] = [];
  for (const mode of STAMPEDE_MODES) {
    const name = `bench-stampede-${mode.replace(/[^a-z]/g, '')}-${run}`;
    const key = mode === 'naive' ? `cache:${name}:hot` : name;
    const job: StampedeJob = { mode, key, id, ...options };
    log(
      `stampede: ${mode}, ${options.processes} processes × ${options.readers} readers, ` +
        `TTL ${options.ttlSeconds} s, load ≥ ${options.loadMs} ms, ${options.seconds} s …`,
    );
    const children = Array.from({ length: options.processes }, () => startChild(job));
    await Promise.all(children.map((c) => c.ready));
    // The key is hot when the run starts: the first, cold load is not part of the figures.
    await stampedeReader(
      job,
      redis,
      stampedeLoader(pool, job, () => undefined),
    )();
    children.forEach((c) => c.go());
    const results = await Promise.all(children.map((c) => c.result));
    const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const row: StampedeRow = {
      mode,
      reads: latencies.length,
      seconds: options.seconds,
      loads: results.reduce((s, r) => s + r.loads, 0),
      blocking: results.reduce((s, r) => s + r.blocking, 0),
      background: results.reduce((s, r) => s + r.background, 0),
      expectedExpiries: options.seconds / options.ttlSeconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1] ?? NaN,
      errors: results.reduce((s, r) => s + r.errors, 0),
    };
    log(
      `  ${fmt(row.reads / row.seconds)} reads/s, ${row.loads} source loads, p99 ${row.p99.toFixed(1)} ms, max ${row.max.toFixed(1)} ms`,
    );
    out.push(row);
    await redis.del(`cache:${name}:hot`);
  }
  return out;
}

function startChild(job: StampedeJob): {
  ready: Promise<void>;
  go: () => void;
  result: Promise<StampedeChildResult>;
} {
  const child = fork(__filename, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const result = new Promise<StampedeChildResult>((resolve, reject) => {
    let done: StampedeChildResult | undefined;
    child.on('message', (m: ChildMessage) => {
      if ('ready' in m) {
        markReady();
      } else if ('error' in m) {
        reject(new Error(m.error));
      } else {
        done = m;
      }
    });
    child.on('exit', (code) =>
      done ? resolve(done) : reject(new Error(`stampede child exited with ${code}`)),
    );
  });
  // a child that fails before it is ready must not leave the parent waiting
  result.catch(() => markReady());
  child.send(job);
  return { ready, go: () => void (child.connected && child.send('go')), result };
}

// ---------------------------------------------------------------- 3. Zipf

interface ZipfRow {
  s: number;
  phase: string;
  requests: number;
  l1: number;
  l2: number;
  source: number;
  l1Bound: number;
}

async function layerCounts(cache: string): Promise<{ l1: number; l2: number; loads: number }> {
  return {
    l1: await counterTotal(cacheRequestsTotal, { cache, layer: 'l1', result: 'hit' }),
    l2: await counterTotal(cacheRequestsTotal, { cache, layer: 'l2', result: 'hit' }),
    loads: await counterTotal(cacheLoadsTotal, { cache, outcome: 'loaded' }),
  };
}

async function zipf(
  pool: Pool,
  redis: Redis,
  ids: string[],
  run: string,
  options: {
    keys: number;
    l1Entries: number;
    requests: number;
    concurrency: number;
    skews: number[];
  },
): Promise<ZipfRow[]> {
  const out: ZipfRow[] = [];
  for (const s of options.skews) {
    const name = `bench-zipf-${String(s).replace('.', '_')}-${run}`;
    const cache = new Cache<Profile>({
      name,
      ttlSeconds: 3_600,
      negativeTtlSeconds: 0,
      l1: { enabled: true, maxEntries: options.l1Entries },
      l2: redis,
      xfetchBeta: 0,
    });
    const draw = zipfSampler(options.keys, s);
    // key k is a profile read: the row of a seeded user, cached under its own key
    const load = (k: number) => (): Promise<Profile | null> =>
      pool
        .query<Profile>(`${PROFILE_SQL} WHERE id = $1`, [ids[k % ids.length]])
        .then((r) => r.rows[0] ?? null);
    const half = Math.floor(options.requests / 2);
    const phases: Array<{ phase: string; requests: number }> = [
      { phase: 'cold start (first half)', requests: half },
      { phase: 'steady (second half)', requests: options.requests - half },
    ];
    for (const p of phases) {
      const before = await layerCounts(name);
      let left = p.requests;
      const started = Date.now();
      let lastReport = started;
      log(`zipf s=${s}: ${p.phase}, ${fmt(p.requests)} reads over ${fmt(options.keys)} keys …`);
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          while (left > 0) {
            left--;
            const k = draw();
            await cache.getOrSet(String(k), load(k));
            if (Date.now() - lastReport > 2_000) {
              lastReport = Date.now();
              log(`  … ${fmt(p.requests - left)} / ${fmt(p.requests)}`);
            }
          }
        }),
      );
      const after = await layerCounts(name);
      const row: ZipfRow = {
        s,
        phase: p.phase,
        requests: p.requests,
        l1: (after.l1 - before.l1) / p.requests,
        l2: (after.l2 - before.l2) / p.requests,
        source: (after.loads - before.loads) / p.requests,
        l1Bound: zipfTopShare(options.keys, s, options.l1Entries),
      };
      log(
        `  L1 ${pct(row.l1)}, L2 ${pct(row.l2)}, source ${pct(row.source)} ` +
          `(${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
      out.push(row);
    }
    for (let k = 0; k < options.keys; k += 1_000) {
      const batch = Array.from(
        { length: Math.min(1_000, options.keys - k) },
        (_, i) => `cache:${name}:${k + i}`,
      );
      await redis.del(...batch);
    }
  }
  return out;
}

// ---------------------------------------------------------------- 4. multi-get

interface MultiGetRow {
  mode: string;
  result: LoopResult;
}

/** A page of cached profiles from L2: one MGET, or one GET per key (parallel, then serial). */
async function multiGet(
  redis: Redis,
  ids: string[],
  run: string,
  options: { seconds: number; concurrency: number; page: number },
): Promise<MultiGetRow[]> {
  const name = `bench-mget-${run}`;
  const cache = new Cache<Profile>({
    name,
    ttlSeconds: 3_600,
    negativeTtlSeconds: 0,
    l1: { enabled: false, maxEntries: 1 },
    l2: redis,
  });
  await cache.warm(ids.map((id) => [id, { id }]));
  const page = (): string[] =>
    Array.from({ length: options.page }, () => ids[Math.floor(Math.random() * ids.length)]);
  const missing = (): Promise<Map<string, Profile>> => Promise.reject(new Error('a miss'));
  const modes: Array<[string, () => Promise<unknown>]> = [
    [`getMany: one MGET for ${options.page} keys`, () => cache.getMany(page(), missing)],
    [
      `${options.page} × getOrSet in parallel`,
      () => Promise.all(page().map((id) => cache.getOrSet(id, () => Promise.resolve(null)))),
    ],
    [
      `${options.page} × getOrSet one after another`,
      async () => {
        for (const id of page()) {
          await cache.getOrSet(id, () => Promise.resolve(null));
        }
      },
    ],
  ];
  const out: MultiGetRow[] = [];
  for (const [mode, op] of modes) {
    log(`multi-get: ${mode}, ${options.concurrency} concurrent pages for ${options.seconds} s …`);
    const result = await runClosedLoop(options.concurrency, options.seconds * 1000, op);
    log(`  ${fmt(result.rps)} pages/s, p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors`);
    out.push({ mode, result });
  }
  await redis.del(...ids.map((id) => `cache:${name}:${id}`));
  return out;
}

// ---------------------------------------------------------------- 5. L2 hung

interface OutageRow {
  phase: string;
  reads: number;
  seconds: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
  slow: number;
  loads: number;
}

/**
 * Redis down means slower, never down: a private redis-server is frozen (SIGSTOP) under load, as
 * a hung cache looks to its clients, then thawed. Reads must all succeed throughout.
 */
async function l2Outage(
  pool: Pool,
  ids: string[],
  options: { seconds: number; concurrency: number; port: number },
): Promise<OutageRow[]> {
  const server = spawn(
    'redis-server',
    ['--port', String(options.port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'],
    { stdio: 'ignore' },
  );
  const stopServer = (): void => void server.kill('SIGKILL');
  process.once('exit', stopServer);
  const redis = createRedis(`redis://127.0.0.1:${options.port}`, 'cache', 'bench-outage');
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve);
      server.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
      setTimeout(() => reject(new Error('redis-server did not start')), 5_000).unref();
    });
    let loads = 0;
    const cache = new Cache<Profile>({
      name: 'bench-outage',
      ttlSeconds: 3_600,
      negativeTtlSeconds: 0,
      l1: { enabled: false, maxEntries: 1 },
      l2: redis,
      xfetchBeta: 0,
    });
    const { rows } = await pool.query<Profile>(`${PROFILE_SQL} WHERE id = ANY($1::bigint[])`, [
      ids,
    ]);
    await cache.warm(rows.map((r) => [String(r.id), r]));
    const read = (): Promise<unknown> => {
      const id = ids[Math.floor(Math.random() * ids.length)];
      return cache.getOrSet(id, async () => {
        loads++;
        const r = await pool.query<Profile>(`${PROFILE_SQL} WHERE id = $1`, [id]);
        return r.rows[0] ?? null;
      });
    };
    const out: OutageRow[] = [];
    const phase = async (name: string): Promise<void> => {
      log(`L2 outage: ${name}, ${options.concurrency} readers for ${options.seconds} s …`);
      const before = loads;
      const loop = await runClosedLoop(options.concurrency, options.seconds * 1000, read);
      const latencies = loop.latencies;
      const row: OutageRow = {
        phase: name,
        reads: latencies.length,
        seconds: loop.seconds,
        errors: loop.errors,
        p50: loop.p50,
        p99: loop.p99,
        max: latencies[latencies.length - 1] ?? NaN,
        slow: latencies.filter((l) => l >= 200).length,
        loads: loads - before,
      };
      log(
        `  ${fmt(row.reads / row.seconds)} reads/s, ${row.errors} errors, p99 ${row.p99.toFixed(1)} ms, ` +
          `${row.slow} reads ≥ 200 ms, ${row.loads} source loads`,
      );
      out.push(row);
    };
    await phase('healthy (L2 hits)');
    server.kill('SIGSTOP');
    await phase('Redis frozen (SIGSTOP)');
    server.kill('SIGCONT');
    // the breaker lets one trial call through after its reset timeout (2 s), then closes
    await new Promise((r) => setTimeout(r, 2_500));
    for (let i = 0; i < 20 && cache.l2Open; i++) {
      await read();
      await new Promise((r) => setTimeout(r, 100));
    }
    await phase('thawed, breaker closed again');
    return out;
  } finally {
    redis.disconnect();
    server.kill('SIGCONT');
    stopServer();
    process.removeListener('exit', stopServer);
  }
}

// ---------------------------------------------------------------- 6. sessions and rate limits

interface CostRow {
  what: string;
  result: LoopResult;
}

/** What a request pays before it reaches its handler: the session lookup and a rate-limit check. */
async function perRequestCosts(
  dataRedis: Redis,
  run: string,
  options: { seconds: number; concurrency: number },
): Promise<CostRow[]> {
  const sessions = new SessionStore(dataRedis, {
    SESSION_IDLE_SECONDS: 3_600,
    SESSION_ABSOLUTE_SECONDS: 7_200,
  });
  const userId = `bench-${run}`;
  const created = await Promise.all(Array.from({ length: 100 }, () => sessions.create(userId)));
  const limiter = new SlidingWindowLimiter(dataRedis);
  const rule = { limit: 1_000_000_000, windowSeconds: 10 };
  const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];
  const out: CostRow[] = [];
  const measure = async (what: string, op: () => Promise<unknown>): Promise<void> => {
    log(`per request: ${what}, ${options.concurrency} concurrent for ${options.seconds} s …`);
    const result = await runClosedLoop(options.concurrency, options.seconds * 1000, op);
    log(`  ${fmt(result.rps)} /s, p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors`);
    out.push({ what, result });
  };
  await measure('session lookup (hashed token, sliding idle timeout: one Lua call)', async () => {
    if (!(await sessions.touch(pick(created).token))) {
      throw new Error('session not found');
    }
  });
  await measure('rate-limit check (sliding-window log: one Lua call)', () =>
    limiter.consume(`bench:${run}:${Math.floor(Math.random() * 1_000)}`, rule),
  );
  await Promise.all(created.map((c) => sessions.revoke(c.session.id, userId)));
  for (let k = 0; k < 1_000; k += 500) {
    await dataRedis.del(
      ...Array.from({ length: 500 }, (_, i) => `ratelimit:bench:${run}:${k + i}`),
    );
  }
  return out;
}

// ---------------------------------------------------------------- report

interface Results {
  layerRows: LayerRow[];
  stampedeRows: StampedeRow[];
  zipfRows: ZipfRow[];
  multiGetRows: MultiGetRow[];
  outageRows: OutageRow[];
  costRows: CostRow[];
}

function report(
  meta: string[],
  { layerRows, stampedeRows, zipfRows, multiGetRows, outageRows, costRows }: Results,
): string {
  const source = layerRows[0]?.result.rps ?? NaN;
  const lines = [
    ...meta,
    '',
    '## 1. Layers: one read of a cached profile',
    '',
    '| layer | reads/s | × source | p50 ms | p99 ms | source loads during the run |',
    '|---|---:|---:|---:|---:|---:|',
    ...layerRows.map(
      (r) =>
        `| ${r.layer} | ${fmt(r.result.rps)} | ${(r.result.rps / source).toFixed(1)} | ${r.result.p50.toFixed(3)} | ${r.result.p99.toFixed(3)} | ${r.loads} |`,
    ),
    '',
    '## 2. Stampede: one hot key expiring under load',
    '',
    '| mode | reads/s | source loads | loads per TTL period | of which readers waited for | in the background | p50 ms | p99 ms | max ms | errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...stampedeRows.map(
      (r) =>
        `| ${r.mode} | ${fmt(r.reads / r.seconds)} | ${r.loads} | ${(r.loads / r.expectedExpiries).toFixed(1)} | ${r.blocking} | ${r.background} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.errors} |`,
    ),
    '',
    '## 3. Hit ratio under a Zipf key distribution',
    '',
    '| skew s | phase | reads | L1 hits | L2 hits | source loads | best possible L1 (top-N share) |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...zipfRows.map(
      (r) =>
        `| ${r.s} | ${r.phase} | ${fmt(r.requests)} | ${pct(r.l1)} | ${pct(r.l2)} | ${pct(r.source)} | ${pct(r.l1Bound)} |`,
    ),
    '',
    '## 4. Multi-get: a page of cached profiles from L2',
    '',
    '| how | pages/s | × one GET after another | p50 ms | p99 ms |',
    '|---|---:|---:|---:|---:|',
    ...multiGetRows.map(
      (r) =>
        `| ${r.mode} | ${fmt(r.result.rps)} | ${(r.result.rps / (multiGetRows[2]?.result.rps ?? NaN)).toFixed(1)} | ${r.result.p50.toFixed(2)} | ${r.result.p99.toFixed(2)} |`,
    ),
    '',
    '## 5. Cache Redis frozen under load (SIGSTOP), then thawed',
    '',
    '| phase | reads/s | failed reads | p50 ms | p99 ms | max ms | reads ≥ 200 ms | source loads |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...outageRows.map(
      (r) =>
        `| ${r.phase} | ${fmt(r.reads / r.seconds)} | ${r.errors} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(0)} | ${r.slow} | ${fmt(r.loads)} |`,
    ),
    '',
    '## 6. Per-request costs in the data Redis',
    '',
    '| what | per second | p50 ms | p99 ms |',
    '|---|---:|---:|---:|',
    ...costRows.map(
      (r) =>
        `| ${r.what} | ${fmt(r.result.rps)} | ${r.result.p50.toFixed(2)} | ${r.result.p99.toFixed(2)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '32' },
      'stampede-seconds': { type: 'string', default: '10' },
      processes: { type: 'string', default: '4' },
      readers: { type: 'string', default: '50' },
      'ttl-seconds': { type: 'string', default: '2' },
      'load-ms': { type: 'string', default: '50' },
      'zipf-keys': { type: 'string', default: '100000' },
      'zipf-requests': { type: 'string', default: '200000' },
      'l1-entries': { type: 'string', default: '1000' },
      page: { type: 'string', default: '20' },
      'outage-port': { type: 'string', default: '16390' },
      out: { type: 'string', default: 'bench/results' },
    },
    strict: true,
  });
  const e = endpoints();
  if (values.child) {
    process.once('message', (job: StampedeJob) => {
      stampedeChild(job, e)
        .then((r) => process.send?.(r, () => process.exit(0)))
        .catch((error: unknown) =>
          process.send?.({ error: error instanceof Error ? error.message : String(error) }, () =>
            process.exit(1),
          ),
        );
    });
    return;
  }
  const num = (name: keyof typeof values): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n <= 0) {
      throw new Error(`--${name} must be a positive number, got ${String(values[name])}`);
    }
    return n;
  };
  const started = Date.now();
  const run = `${process.pid}`;
  const { pool, redis } = await connect(e, 10);
  const { rows } = await pool.query<{ id: string }>(
    'SELECT id::text AS id FROM users ORDER BY id LIMIT 1000',
  );
  if (rows.length < 10) {
    throw new Error(`only ${rows.length} users on the replica: run \`npm run seed\` first`);
  }
  const ids = rows.map((r) => r.id);
  log(`dev stack: Redis ${e.redisUrl}, replica ${e.replicaUrl}; ${ids.length} seeded users`);

  const layerRows = await layers(pool, redis, ids, run, num('seconds'), num('concurrency'));
  const stampedeOptions = {
    processes: num('processes'),
    readers: num('readers'),
    seconds: num('stampede-seconds'),
    ttlSeconds: num('ttl-seconds'),
    loadMs: num('load-ms'),
  };
  const stampedeRows = await stampede(pool, redis, ids[0], run, stampedeOptions);
  const zipfOptions = {
    keys: num('zipf-keys'),
    l1Entries: num('l1-entries'),
    requests: num('zipf-requests'),
    concurrency: num('concurrency'),
    skews: [1.0, 0.8],
  };
  const zipfRows = await zipf(pool, redis, ids, run, zipfOptions);
  const short = { seconds: Math.min(3, num('seconds')), concurrency: num('concurrency') };
  const multiGetRows = await multiGet(redis, ids, run, { ...short, page: num('page') });
  const outageRows = await l2Outage(pool, ids, { ...short, port: num('outage-port') });
  const dataRedis = createRedis(e.dataRedisUrl, 'data', 'bench-cache-data');
  const costRows = await perRequestCosts(dataRedis, run, short);
  dataRedis.disconnect();
  await pool.end();
  redis.disconnect();

  const date = new Date().toISOString().slice(0, 10);
  const machine = hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
  const meta = [
    `# Murmur cache bench, ${date}, ${machine}`,
    '',
    `Measured in one run by \`npm run bench:cache\` (${cpus().length} CPUs, Node ${process.version}) against`,
    `the dev stack: cache Redis ${e.redisUrl}, main replica ${e.replicaUrl.replace(/^postgres:\/\/[^@]*@/, 'postgres://')}.`,
    `Layers: ${values.concurrency} concurrent readers for ${values.seconds} s each over ${ids.length} profiles.`,
    `Stampede: ${stampedeOptions.processes} processes × ${stampedeOptions.readers} readers of one key for`,
    `${stampedeOptions.seconds} s; TTL ${stampedeOptions.ttlSeconds} s (±10% jitter in @murmur/cache, none in the`,
    `naive mode); each load is the profile query plus pg_sleep(${stampedeOptions.loadMs} ms), an expensive query.`,
    `"Loads per TTL period" divides by ${stampedeOptions.seconds}/${stampedeOptions.ttlSeconds} periods; L1 is off there.`,
    `Zipf: ${fmt(zipfOptions.keys)} keys, L1 of ${fmt(zipfOptions.l1Entries)} entries (LRU), L2 without eviction,`,
    `${fmt(zipfOptions.requests)} reads per skew; "best possible L1" is the share of reads that fall on the`,
    `${fmt(zipfOptions.l1Entries)} most popular keys.`,
    `Multi-get: pages of ${values.page} random cached profiles, L1 off, ${short.concurrency} pages at a time for ${short.seconds} s.`,
    `Outage: a private redis-server on port ${values['outage-port']} as L2 (L1 off), ${short.concurrency} readers, ${short.seconds} s per`,
    'phase; frozen with SIGSTOP (a hung Redis: connections open, no answers), reads fall back to the',
    'replica through the circuit breaker (250 ms command timeout, opens after 5 calls at ≥50% failures).',
    `Per-request costs: against the data Redis ${e.dataRedisUrl}, ${short.concurrency} concurrent for ${short.seconds} s.`,
  ];
  const text = report(meta, {
    layerRows,
    stampedeRows,
    zipfRows,
    multiGetRows,
    outageRows,
    costRows,
  });
  const dir = path.resolve(values.out);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${date}-${machine}-cache.md`);
  writeFileSync(file, text);
  console.log(`\n${text}`);
  log(
    `done in ${((Date.now() - started) / 1000).toFixed(0)} s; report: ${path.relative(process.cwd(), file)}`,
  );
}

main().catch((error: unknown) => {
  console.error(`bench:cache failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
