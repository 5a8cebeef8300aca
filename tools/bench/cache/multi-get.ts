/** 4. Multi-get: a page of keys in one MGET against one GET per key. */
import { Cache } from '@murmur/cache';
import { type LoopResult, runClosedLoop } from '../stats';
import { type Column, markdownTable, section } from './report';
import { type BenchContext, fmt, log, pick, type Profile } from './common';

export interface MultiGetOptions {
  seconds: number;
  concurrency: number;
  page: number;
}

export interface MultiGetRow {
  mode: string;
  result: LoopResult;
}

/** A page of cached profiles from L2: one MGET, or one GET per key (parallel, then serial). */
export async function multiGet(
  ctx: BenchContext,
  options: MultiGetOptions,
): Promise<MultiGetRow[]> {
  const { ids } = ctx;
  const cache = new Cache<Profile>({
    name: `bench-mget-${ctx.run}`,
    ttlSeconds: 3_600,
    negativeTtlSeconds: 0,
    l1: { enabled: false, maxEntries: 1 },
    l2: ctx.redis,
  });
  await cache.warm(ids.map((id) => [id, { id }]));
  const page = (): string[] => Array.from({ length: options.page }, () => pick(ids));
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
  await cache.deleteMany(ids);
  return out;
}

export function multiGetSection(rows: MultiGetRow[], o: MultiGetOptions): string {
  const serial = rows[rows.length - 1]?.result.rps ?? NaN;
  const columns: Array<Column<MultiGetRow>> = [
    { head: 'how', cell: (r) => r.mode },
    { head: 'pages/s', numeric: true, cell: (r) => fmt(r.result.rps) },
    {
      head: '× one GET after another',
      numeric: true,
      cell: (r) => (r.result.rps / serial).toFixed(1),
    },
    { head: 'p50 ms', numeric: true, cell: (r) => r.result.p50.toFixed(2) },
    { head: 'p99 ms', numeric: true, cell: (r) => r.result.p99.toFixed(2) },
  ];
  return section(
    '4. Multi-get: a page of cached profiles from L2',
    [
      `Pages of ${o.page} random cached profiles, L1 off, ${o.concurrency} pages at a time for ${o.seconds} s.`,
    ],
    markdownTable(columns, rows),
  );
}
