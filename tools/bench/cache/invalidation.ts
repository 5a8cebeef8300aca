/**
 * 7. Invalidation: how long after one process writes through (or invalidates a tag) another
 * process's L1 stops serving the old value, through the real cache Redis's pub/sub.
 */
import { Cache, InvalidationBus } from '@murmur/cache';
import { createRedis } from '@murmur/redis';
import { percentile } from '../stats';

const q = (values: readonly number[], p: number): number =>
  percentile(
    [...values].sort((x, y) => x - y),
    p,
  );
import { type Column, markdownTable, section } from './report';
import { type BenchContext, fmt, log } from './common';

export interface InvalidationOptions {
  rounds: number;
}

interface Item {
  v: number;
}

export interface InvalidationRow {
  how: string;
  /** per round: ms from the writer's call to the write being acknowledged to it */
  acked: number[];
  /** per round: ms from the writer's call to the other process serving the new value */
  seen: number[];
  /** rounds where the other process still served the old value after 2 s */
  missed: number;
}

const GIVE_UP_MS = 2_000;

/** Two caches with their own connections and buses: two processes sharing one cache Redis. */
export async function invalidation(
  ctx: BenchContext,
  options: InvalidationOptions,
): Promise<InvalidationRow[]> {
  const redisA = createRedis(ctx.endpoints.redisUrl, 'cache', 'bench-invalidation-a');
  const redisB = createRedis(ctx.endpoints.redisUrl, 'cache', 'bench-invalidation-b');
  const [busA, busB] = [new InvalidationBus(redisA), new InvalidationBus(redisB)];
  await Promise.all([busA.start(), busB.start()]);
  const make = (redis: typeof redisA, bus: InvalidationBus): Cache<Item> =>
    new Cache<Item>({
      name: `bench-inval-${ctx.run}`,
      // Far longer than the run: only the broadcast can end B's copy.
      ttlSeconds: 3_600,
      negativeTtlSeconds: 0,
      l1: { enabled: true, maxEntries: 10_000 },
      l2: redis,
      bus,
      versionOf: (x) => x.v,
    });
  const [a, b] = [make(redisA, busA), make(redisB, busB)];
  // The source holds v2 once the change is made: a B that misses loads it.
  const source = (): Promise<Item | null> => Promise.resolve({ v: 2 });

  /** B holds v1 in its L1; `change` makes v2 current; returns when B serves v2 (or gives up). */
  const round = async (
    key: string,
    tag: string,
    change: () => Promise<void>,
  ): Promise<{ acked: number; seen: number | undefined }> => {
    await b.getOrSet(key, () => Promise.resolve({ v: 1 }), { tags: [tag] });
    const t0 = performance.now();
    await change();
    const acked = performance.now() - t0;
    for (;;) {
      const value = await b.getOrSet(key, source).catch(() => undefined);
      const now = performance.now() - t0;
      if (value?.v === 2) {
        return { acked, seen: now };
      }
      if (now > GIVE_UP_MS) {
        return { acked, seen: undefined };
      }
      // Let the subscriber's socket be read between polls.
      await new Promise((r) => setImmediate(r));
    }
  };

  const kinds: Array<[string, (i: number) => [string, string, () => Promise<void>]]> = [
    [
      'write-through (`set`) of a key another process holds',
      (i) => [`k${i}`, `t${i}`, () => a.set(`k${i}`, { v: 2 })],
    ],
    [
      'tag invalidation (`invalidateTag`) of a key another process holds',
      (i) => [
        `tk${i}`,
        `tag${i}`,
        // A does not touch the key: only the tag's broadcast can end B's copy.
        () => a.invalidateTag(`tag${i}`),
      ],
    ],
  ];
  const out: InvalidationRow[] = [];
  for (const [how, roundOf] of kinds) {
    log(`invalidation: ${how}, ${options.rounds} rounds …`);
    const row: InvalidationRow = { how, acked: [], seen: [], missed: 0 };
    for (let i = 0; i < options.rounds; i++) {
      const [key, tag, change] = roundOf(i);
      const r = await round(key, tag, change);
      row.acked.push(r.acked);
      if (r.seen === undefined) {
        row.missed++;
      } else {
        row.seen.push(r.seen);
      }
    }
    log(
      `  seen by the other process: p50 ${q(row.seen, 50).toFixed(2)} ms, p99 ${q(row.seen, 99).toFixed(2)} ms, ${row.missed} missed`,
    );
    out.push(row);
  }
  await a.deleteMany(Array.from({ length: options.rounds }, (_, i) => [`k${i}`, `tk${i}`]).flat());
  await Promise.all([busA.stop(), busB.stop()]);
  redisA.disconnect();
  redisB.disconnect();
  return out;
}

export function invalidationSection(rows: InvalidationRow[], o: InvalidationOptions): string {
  const columns: Array<Column<InvalidationRow>> = [
    { head: 'change', cell: (r) => r.how },
    { head: 'acked p50 ms', numeric: true, cell: (r) => q(r.acked, 50).toFixed(2) },
    { head: 'seen p50 ms', numeric: true, cell: (r) => q(r.seen, 50).toFixed(2) },
    { head: 'seen p99 ms', numeric: true, cell: (r) => q(r.seen, 99).toFixed(2) },
    { head: 'seen max ms', numeric: true, cell: (r) => q(r.seen, 100).toFixed(2) },
    { head: 'missed', numeric: true, cell: (r) => fmt(r.missed) },
  ];
  return section(
    '7. Invalidation: when another process stops serving the old value',
    [
      `${o.rounds} rounds each, one at a time: process B holds v1 in its L1 (TTL 1 h), process A makes v2 current; ` +
        '"acked" is when A\'s call returned, "seen" when B first served v2 (polled between event-loop turns), ' +
        `both from A's call. Two caches in this one Node process with their own Redis connections and buses, ` +
        `so the figures include one pub/sub hop through the cache Redis but no network. "missed": B still served v1 after ${GIVE_UP_MS / 1000} s (a lost message; the TTL would end it).`,
    ],
    markdownTable(columns, rows),
  );
}
