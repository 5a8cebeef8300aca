/**
 * `npm run bench:boards`: what a leaderboard read costs from each place it can come from,
 * measured in one run against the dev stack's data Redis and main Postgres (docs/patterns/
 * leaderboards.md). Needs the dev stack (`npm start`, or `npm run stack:up -- --only infra` and
 * `npm run migrate`). It seeds its own board (`bench-<pid>`: members, power-law scores, events
 * spread over the last 14 days) through the ledger code the worker uses, refreshes the
 * per-window view and copies it into Redis as a rebuild does, then reads, closed loop:
 *   Redis sorted set: top-10 (ZRANGE REV) and around-me (ZREVRANK + ZRANGE in one script);
 *   materialized view: top-10 (rank index) and around-me (row_number over the window);
 *   live aggregate over the ledger: top-10 and around-me (GROUP BY over the window's events);
 * for today's daily window and all-time, with the Redis top-10 measured first and again last
 * (the baseline) to show the machine's noise. The SQL mirrors
 * services/leaderboard/src/leaderboards/leaderboard-scores.repository.ts. Deletes its board at
 * the end. Writes bench/results/<date>-<machine>-boards.md and prints it.
 *   npm run bench:boards -- --members 50000 --events 500000 --seconds 5 --concurrency 8
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  encodeMember,
  type WindowPeriod,
  windowAt,
  windowKey,
  WINDOWS,
  windowVersionKey,
} from '@murmur/contracts';
import type { Sql } from '@murmur/database';
import { countScoreEvents, projectFromView, refreshWindowScores } from '@murmur/rebuild';
import { createRedis } from '@murmur/redis';
import { buildTopology } from '@murmur/stack';
import { Pool } from 'pg';
import { reportPlace } from './report';
import { type LoopResult, runClosedLoop } from './stats';

const OPTIONS = {
  members: { type: 'string', default: '50000' },
  events: { type: 'string', default: '500000' },
  seconds: { type: 'string', default: '5' },
  concurrency: { type: 'string', default: '8' },
  out: { type: 'string', default: 'bench/results' },
} as const;

const log = (line: string): void => void process.stderr.write(`[bench:boards] ${line}\n`);
const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : '–';
const DAY_MS = 86_400_000;

/** A seeded PRNG (mulberry32): the same seed makes the same board. */
function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Refresh the per-window view in a transaction of its own (the timeout is per transaction). */
async function refreshView(writer: Pool): Promise<void> {
  const client = await writer.connect();
  const sql: Sql = {
    query: async <T>(text: string, params?: readonly unknown[]) =>
      (await client.query(text, params ? [...params] : undefined)).rows as T[],
  };
  try {
    await client.query('BEGIN');
    await refreshWindowScores(sql, 0);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
const EVENT_BATCH = 5_000;

const AROUND = `
local r = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if not r then return false end
local from = math.max(0, r - 5)
return {r, from, redis.call('ZRANGE', KEYS[1], from, r + 5, 'REV', 'WITHSCORES')}
`;

/** One board in one window as the Postgres relation each read ranks (see the repository). */
function relation(source: 'view' | 'live', board: string, p: WindowPeriod): [string, unknown[]] {
  const iso = (ms: number) => new Date(ms).toISOString();
  if (source === 'view') {
    return [
      `SELECT v.member_id, v.score FROM leaderboard_window_scores v
        WHERE v.board = $1 AND v.period = $2 AND v.period_start = $3::timestamptz`,
      [board, p.window, iso(p.startMs)],
    ];
  }
  // live all-time sums every event of the board: the aggregate the view and Redis stand in for
  return p.endMs === undefined
    ? [
        `SELECT e.user_id AS member_id, sum(e.delta)::bigint AS score FROM leaderboard_events e
          WHERE e.board = $1 GROUP BY e.user_id HAVING sum(e.delta) > 0`,
        [board],
      ]
    : [
        `SELECT e.user_id AS member_id, sum(e.delta)::bigint AS score FROM leaderboard_events e
          WHERE e.board = $1 AND e.occurred_at >= $2::timestamptz AND e.occurred_at < $3::timestamptz
          GROUP BY e.user_id HAVING sum(e.delta) > 0`,
        [board, iso(p.startMs), iso(p.endMs)],
      ];
}

const topSql = (rel: string, n: number) =>
  `SELECT r.member_id::text, r.score::text FROM (${rel}) r
    ORDER BY r.score DESC, r.member_id ASC LIMIT $${n + 1}`;
const aroundSql = (rel: string, n: number) =>
  `WITH ranked AS (SELECT r.member_id, r.score,
                          row_number() OVER (ORDER BY r.score DESC, r.member_id ASC) AS rank
                     FROM (${rel}) r),
        me AS MATERIALIZED (SELECT rank FROM ranked WHERE member_id = $${n + 1}::bigint)
   SELECT k.member_id::text, k.score::text, k.rank FROM ranked k
    WHERE k.rank BETWEEN (SELECT rank FROM me) - 5 AND (SELECT rank FROM me) + 5 ORDER BY k.rank`;

interface Measured {
  read: string;
  window: string;
  result: LoopResult;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: OPTIONS, strict: true });
  const num = (name: Exclude<keyof typeof OPTIONS, 'out'>): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n <= 0) {
      throw new Error(`--${name} must be a positive integer, got ${values[name]}`);
    }
    return n;
  };
  const members = num('members');
  const events = num('events');
  const seconds = num('seconds');
  const concurrency = num('concurrency');
  const started = Date.now();

  const t = buildTopology({ profile: 'dev' });
  const data = t.redis.find((r) => r.purpose === 'queue');
  const primary = t.postgres.find((p) => p.cluster === 'main' && p.role === 'primary');
  const replica = t.postgres.find((p) => p.cluster === 'main' && p.role === 'replica');
  if (!data || !primary || !replica) {
    throw new Error('the dev topology has no data Redis or main primary and replica');
  }
  const pgUrl = (port: number) =>
    `postgres://${t.database.user}@127.0.0.1:${port}/${t.database.name}`;
  const writer = new Pool({ connectionString: pgUrl(primary.port), max: 2 });
  const reader = new Pool({ connectionString: pgUrl(replica.port), max: concurrency });
  const redis = createRedis(`redis://127.0.0.1:${data.port}`, 'data', 'bench-boards');
  redis.defineCommand('benchAround', { numberOfKeys: 1, lua: AROUND });
  const around = redis as unknown as { benchAround(key: string, member: string): Promise<unknown> };
  const board = `bench-${process.pid}`;
  try {
    await Promise.all([writer.query('SELECT 1'), reader.query('SELECT 1'), redis.ping()]);
  } catch (error) {
    throw new Error(
      `the dev stack is not reachable (${error instanceof Error ? error.message : String(error)}): ` +
        'run `npm start` (or `npm run stack:up -- --only infra` and `npm run migrate`) first',
    );
  }
  const ledger: Sql = {
    query: async <T>(text: string, params?: readonly unknown[]) =>
      (await writer.query(text, params ? [...params] : undefined)).rows as T[],
  };

  try {
    // Seed: member k earns ∝ 1/(k+1)^0.8 of the events (a few prolific, a long tail), at
    // instants spread uniformly over the last 14 days, through the worker's ledger statement.
    const now = Date.now();
    const random = mulberry(42);
    const weights = Array.from({ length: members }, (_, k) => 1 / Math.pow(k + 1, 0.8));
    const total = weights.reduce((a, b) => a + b, 0);
    const cdf: number[] = [];
    weights.reduce((acc, w, k) => (cdf[k] = acc + w / total), 0);
    const pickMember = (): number => {
      const u = random();
      let lo = 0;
      let hi = members - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid] < u) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    };
    const memberId = (k: number): string => String(1_000_000 + k);
    const seedStarted = Date.now();
    for (let done = 0; done < events; done += EVENT_BATCH) {
      const n = Math.min(EVENT_BATCH, events - done);
      const batch = Array.from({ length: n }, (_, i) => ({
        eventId: `bench-${done + i}`,
        userId: memberId(pickMember()),
        delta: 1,
        at: now - Math.floor(random() * 14 * DAY_MS),
      }));
      await countScoreEvents(ledger, board, batch);
      if ((done / EVENT_BATCH) % 20 === 0) {
        log(`seed: ${fmt(done + n)} / ${fmt(events)} events`);
      }
    }
    log(`seed: ${fmt(events)} events in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);
    const refreshStarted = Date.now();
    await refreshView(writer);
    const refreshMs = Date.now() - refreshStarted;
    log(`view: REFRESH MATERIALIZED VIEW CONCURRENTLY in ${fmt(refreshMs)} ms`);
    const copyStarted = Date.now();
    const copied = await projectFromView((fn) => fn(ledger), redis, 5_000);
    const copyMs = Date.now() - copyStarted;
    log(`redis: ${fmt(copied)} view rows copied in ${fmt(copyMs)} ms`);
    // the reads go to the replica, as the service's do: wait for it to have the view
    const [{ n: want }] = (
      await writer.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM leaderboard_window_scores WHERE board = $1',
        [board],
      )
    ).rows;
    for (let i = 0; i < 600; i++) {
      const [{ n }] = (
        await reader.query<{ n: string }>(
          'SELECT count(*)::text AS n FROM leaderboard_window_scores WHERE board = $1',
          [board],
        )
      ).rows;
      if (n === want) {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    const windows = { daily: windowAt('daily', now), all: windowAt('all', now) };
    const sizes = Object.fromEntries(
      await Promise.all(
        Object.entries(windows).map(async ([w, p]) => [w, await redis.zcard(windowKey(board, p))]),
      ),
    ) as Record<string, number>;
    log(`boards: daily ${fmt(sizes.daily)} members, all-time ${fmt(sizes.all)}`);
    const someMember = (): string => memberId(pickMember());

    const out: Measured[] = [];
    const measure = async (read: string, window: string, op: () => Promise<unknown>) => {
      log(`measuring ${read} (${window}) for ${seconds} s …`);
      const result = await runClosedLoop(concurrency, seconds * 1000, op);
      out.push({ read, window, result });
      log(
        `  ${fmt(result.rps)} reads/s, p50 ${fmt(result.p50 * 1000)} µs, p99 ${fmt(result.p99 * 1000)} µs` +
          (result.errors > 0 ? `, ${result.errors} errors` : ''),
      );
    };
    const baseline = () => redis.zrange(windowKey(board, windows.daily), 0, 9, 'REV', 'WITHSCORES');
    await measure('baseline: Redis top-10', 'daily', baseline);
    for (const [w, p] of Object.entries(windows)) {
      const key = windowKey(board, p);
      await measure('Redis top-10', w, () => redis.zrange(key, 0, 9, 'REV', 'WITHSCORES'));
      await measure('Redis around-me (±5)', w, () =>
        around.benchAround(key, encodeMember(someMember())),
      );
      for (const source of ['view', 'live'] as const) {
        const [rel, params] = relation(source, board, p);
        const label = source === 'view' ? 'materialized view' : 'live aggregate';
        await measure(`${label} top-10`, w, () =>
          reader.query(topSql(rel, params.length), [...params, 10]),
        );
        await measure(`${label} around-me (±5)`, w, () =>
          reader.query(aroundSql(rel, params.length), [...params, someMember()]),
        );
      }
    }
    await measure('baseline again: Redis top-10', 'daily', baseline);

    const base = out[0].result.rps;
    const rows = out.map(
      ({ read, window, result }) =>
        `| ${read} | ${window} | ${fmt(result.rps)} | ${fmt(result.p50 * 1000)} | ${fmt(result.p99 * 1000)} | ×${(result.rps / base).toFixed(3)} |`,
    );
    const { dir, date, machine } = reportPlace(values.out);
    const text = [
      `# Murmur leaderboard bench, ${date}, ${machine}`,
      '',
      `Measured in one run by \`npm run bench:boards -- --members ${members} --events ${events} --seconds ${seconds} --concurrency ${concurrency}\``,
      `(${cpus().length} CPUs, Node ${process.version}) against the dev stack: data Redis, main primary (seed, refresh) and a replica (reads).`,
      '',
      `Seeded ${fmt(events)} events for ${fmt(members)} members (power law, s=0.8) over 14 days, through the`,
      `worker's ledger statement; today's board has ${fmt(sizes.daily)} members, all-time ${fmt(sizes.all)}.`,
      `REFRESH MATERIALIZED VIEW CONCURRENTLY (the whole view) took ${fmt(refreshMs)} ms; copying it into Redis`,
      `(${fmt(copied)} rows, as a rebuild does) ${fmt(copyMs)} ms.`,
      '',
      `Closed loop, ${concurrency} concurrent readers, ${seconds} s per row. The Redis top-10 is measured first and`,
      'again last: the difference between those two rows is the noise of this machine.',
      '',
      '| read | window | reads/s | p50 µs | p99 µs | vs baseline |',
      '|---|---|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n');
    const file = path.join(dir, `${date}-${machine}-boards.md`);
    writeFileSync(file, text);
    console.log(`\n${text}`);
    log(
      `done in ${((Date.now() - started) / 1000).toFixed(0)} s; report: ${path.relative(process.cwd(), file)}`,
    );
  } finally {
    // the bench's own board only: its ledger rows, scores and Redis keys
    await writer.query('DELETE FROM leaderboard_events WHERE board = $1', [board]);
    await writer.query('DELETE FROM leaderboard_scores WHERE board = $1', [board]);
    await refreshView(writer).catch((error: Error) => log(`view not refreshed: ${error.message}`));
    const periods = [windowAt('all', 0)];
    for (let d = 0; d < 15; d++) {
      for (const w of WINDOWS.filter((x) => x !== 'all')) {
        periods.push(windowAt(w, Date.now() - d * DAY_MS));
      }
    }
    await redis.del(...periods.flatMap((p) => [windowKey(board, p), windowVersionKey(board, p)]));
    await writer.end();
    await reader.end();
    redis.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(`bench:boards failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
