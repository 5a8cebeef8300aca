/**
 * 5. A hung cache Redis under load: a private redis-server is frozen (SIGSTOP), as a hung cache
 * looks to its clients, then thawed. Redis down means slower, never down: reads must all succeed.
 */
import { spawn } from 'node:child_process';
import { Cache, DEFAULT_L2_BREAKER } from '@murmur/cache';
import { createRedis } from '@murmur/redis';
import { runClosedLoop } from '../stats';
import { breakerSummary, type Column, markdownTable, section } from './report';
import {
  type BenchContext,
  fmt,
  loadProfile,
  log,
  pick,
  type Profile,
  profilesOf,
  sleep,
} from './common';

export interface OutageOptions {
  seconds: number;
  concurrency: number;
  /** the private redis-server's port */
  port: number;
}

export interface OutageRow {
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

/** a read this slow is one that waited for Redis */
const SLOW_MS = 200;

export async function l2Outage(ctx: BenchContext, options: OutageOptions): Promise<OutageRow[]> {
  const { pool, ids } = ctx;
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
    // the default breaker, the one the services run with
    const cache = new Cache<Profile>({
      name: 'bench-outage',
      ttlSeconds: 3_600,
      negativeTtlSeconds: 0,
      l1: { enabled: false, maxEntries: 1 },
      l2: redis,
      xfetchBeta: 0,
    });
    await cache.warm(await profilesOf(pool, ids));
    const read = (): Promise<unknown> => {
      const id = pick(ids);
      return cache.getOrSet(id, () => {
        loads++;
        return loadProfile(pool, id);
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
        slow: latencies.filter((l) => l >= SLOW_MS).length,
        loads: loads - before,
      };
      log(
        `  ${fmt(row.reads / row.seconds)} reads/s, ${row.errors} errors, p99 ${row.p99.toFixed(1)} ms, ` +
          `${row.slow} reads ≥ ${SLOW_MS} ms, ${row.loads} source loads`,
      );
      out.push(row);
    };
    await phase('healthy (L2 hits)');
    server.kill('SIGSTOP');
    await phase('Redis frozen (SIGSTOP)');
    server.kill('SIGCONT');
    // the breaker lets one trial call through after its reset timeout, then closes
    await sleep(DEFAULT_L2_BREAKER.resetTimeoutMs + 500);
    for (let i = 0; i < 20 && cache.l2Open; i++) {
      await read();
      await sleep(100);
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

export function outageSection(rows: OutageRow[], o: OutageOptions): string {
  const columns: Array<Column<OutageRow>> = [
    { head: 'phase', cell: (r) => r.phase },
    { head: 'reads/s', numeric: true, cell: (r) => fmt(r.reads / r.seconds) },
    { head: 'failed reads', numeric: true, cell: (r) => String(r.errors) },
    { head: 'p50 ms', numeric: true, cell: (r) => r.p50.toFixed(2) },
    { head: 'p99 ms', numeric: true, cell: (r) => r.p99.toFixed(1) },
    { head: 'max ms', numeric: true, cell: (r) => r.max.toFixed(0) },
    { head: `reads ≥ ${SLOW_MS} ms`, numeric: true, cell: (r) => String(r.slow) },
    { head: 'source loads', numeric: true, cell: (r) => fmt(r.loads) },
  ];
  return section(
    '5. Cache Redis frozen under load (SIGSTOP), then thawed',
    [
      `A private redis-server on port ${o.port} as L2 (L1 off), ${o.concurrency} readers, ${o.seconds} s per`,
      'phase; frozen with SIGSTOP (a hung Redis: connections open, no answers), reads fall back to the',
      `replica through the circuit breaker (${breakerSummary(DEFAULT_L2_BREAKER)}).`,
    ],
    markdownTable(columns, rows),
  );
}
