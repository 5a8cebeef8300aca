/** 6. Per-request costs in the data Redis: a session lookup and a rate-limit check. */
import { SessionStore } from '@murmur/auth';
import { SlidingWindowLimiter } from '@murmur/rate-limit';
import type { Redis } from 'ioredis';
import { type LoopResult, runClosedLoop } from '../stats';
import { type Column, markdownTable, section } from './report';
import { fmt, log, pick } from './common';

export interface CostOptions {
  seconds: number;
  concurrency: number;
}

export interface CostRow {
  what: string;
  result: LoopResult;
}

/** What a request pays before it reaches its handler: the session lookup and a rate-limit check. */
export async function perRequestCosts(
  dataRedis: Redis,
  run: string,
  options: CostOptions,
): Promise<CostRow[]> {
  const sessions = new SessionStore(dataRedis, {
    SESSION_IDLE_SECONDS: 3_600,
    SESSION_ABSOLUTE_SECONDS: 7_200,
  });
  const userId = `bench-${run}`;
  const created = await Promise.all(Array.from({ length: 100 }, () => sessions.create(userId)));
  const limiter = new SlidingWindowLimiter(dataRedis);
  const rule = { limit: 1_000_000_000, windowSeconds: 10 };
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

export function costsSection(rows: CostRow[], o: CostOptions, dataRedisUrl: string): string {
  const columns: Array<Column<CostRow>> = [
    { head: 'what', cell: (r) => r.what },
    { head: 'per second', numeric: true, cell: (r) => fmt(r.result.rps) },
    { head: 'p50 ms', numeric: true, cell: (r) => r.result.p50.toFixed(2) },
    { head: 'p99 ms', numeric: true, cell: (r) => r.result.p99.toFixed(2) },
  ];
  return section(
    '6. Per-request costs in the data Redis',
    [`Against the data Redis ${dataRedisUrl}, ${o.concurrency} concurrent for ${o.seconds} s.`],
    markdownTable(columns, rows),
  );
}
