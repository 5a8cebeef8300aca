/** 3. Zipf: hit ratios per layer over many keys with a small L1, at several skews. */
import { Cache } from '@murmur/cache';
import { cacheLoadsTotal, cacheRequestsTotal } from '@murmur/cache';
import { zipfSampler, zipfTopShare } from '../stats';
import { type Column, markdownTable, section } from './report';
import {
  type BenchContext,
  counterTotal,
  fmt,
  loadProfile,
  log,
  pct,
  type Profile,
} from './common';

export interface ZipfOptions {
  keys: number;
  l1Entries: number;
  requests: number;
  concurrency: number;
  skews: number[];
}

export interface ZipfRow {
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

export async function zipf(ctx: BenchContext, options: ZipfOptions): Promise<ZipfRow[]> {
  const { pool, redis, ids, run } = ctx;
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
            // key k is a profile read: the row of a seeded user, cached under its own key
            const k = draw();
            await cache.getOrSet(String(k), () => loadProfile(pool, ids[k % ids.length]));
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
      const batch = Array.from({ length: Math.min(1_000, options.keys - k) }, (_, i) => k + i);
      await cache.deleteMany(batch.map(String));
    }
  }
  return out;
}

export function zipfSection(rows: ZipfRow[], o: ZipfOptions): string {
  const columns: Array<Column<ZipfRow>> = [
    { head: 'skew s', numeric: true, cell: (r) => String(r.s) },
    { head: 'phase', cell: (r) => r.phase },
    { head: 'reads', numeric: true, cell: (r) => fmt(r.requests) },
    { head: 'L1 hits', numeric: true, cell: (r) => pct(r.l1) },
    { head: 'L2 hits', numeric: true, cell: (r) => pct(r.l2) },
    { head: 'source loads', numeric: true, cell: (r) => pct(r.source) },
    { head: 'best possible L1 (top-N share)', numeric: true, cell: (r) => pct(r.l1Bound) },
  ];
  return section(
    '3. Hit ratio under a Zipf key distribution',
    [
      `${fmt(o.keys)} keys, L1 of ${fmt(o.l1Entries)} entries (LRU), L2 without eviction,`,
      `${fmt(o.requests)} reads per skew; "best possible L1" is the share of reads that fall on the`,
      `${fmt(o.l1Entries)} most popular keys.`,
    ],
    markdownTable(columns, rows),
  );
}
