/** 1. Layers: reads/s and latency of an L1 hit, an L2 hit and a source read, closed loop. */
import { Cache } from '@murmur/cache';
import type { LoopResult } from '../stats';
import { runClosedLoop } from '../stats';
import { type Column, markdownTable, section } from './report';
import { type BenchContext, fmt, loadProfile, log, pick, type Profile, profilesOf } from './common';

export interface LayersOptions {
  seconds: number;
  concurrency: number;
}

export interface LayerRow {
  layer: string;
  result: LoopResult;
  loads: number;
}

export async function layers(ctx: BenchContext, options: LayersOptions): Promise<LayerRow[]> {
  const { pool, redis, ids, run } = ctx;
  const profiles = await profilesOf(pool, ids);
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
  await l1.warm(profiles);
  await l2.warm(profiles);

  const out: LayerRow[] = [];
  const measure = async (
    layer: string,
    read: (id: string, load: () => Promise<Profile | null>) => Promise<unknown>,
  ): Promise<void> => {
    let loads = 0;
    log(`layers: ${layer}, ${options.concurrency} concurrent readers for ${options.seconds} s …`);
    const result = await runClosedLoop(options.concurrency, options.seconds * 1000, () => {
      const id = pick(ids);
      return read(id, () => {
        loads++;
        return loadProfile(pool, id);
      });
    });
    log(
      `  ${fmt(result.rps)} reads/s, p50 ${result.p50.toFixed(3)} ms, p99 ${result.p99.toFixed(3)} ms`,
    );
    out.push({ layer, result, loads });
  };
  await measure('source (replica, by primary key)', (_id, load) => load());
  await measure('L2 hit (Redis GET + JSON parse)', (id, load) => l2.getOrSet(id, load));
  await measure('L1 hit (in-process LRU)', (id, load) => l1.getOrSet(id, load));
  await l2.deleteMany(ids);
  return out;
}

export function layersSection(rows: LayerRow[], options: LayersOptions, profiles: number): string {
  const source = rows[0]?.result.rps ?? NaN;
  const columns: Array<Column<LayerRow>> = [
    { head: 'layer', cell: (r) => r.layer },
    { head: 'reads/s', numeric: true, cell: (r) => fmt(r.result.rps) },
    { head: '× source', numeric: true, cell: (r) => (r.result.rps / source).toFixed(1) },
    { head: 'p50 ms', numeric: true, cell: (r) => r.result.p50.toFixed(3) },
    { head: 'p99 ms', numeric: true, cell: (r) => r.result.p99.toFixed(3) },
    { head: 'source loads during the run', numeric: true, cell: (r) => String(r.loads) },
  ];
  return section(
    '1. Layers: one read of a cached profile',
    [
      `${options.concurrency} concurrent readers for ${options.seconds} s each over ${profiles} profiles.`,
    ],
    markdownTable(columns, rows),
  );
}
