/**
 * `npm run bench:cache`: what each layer of @murmur/cache buys, measured in one run against the
 * dev stack's own Redis and Postgres (main replica). Needs `npm start` (or `npm run stack:up`)
 * and `npm run seed` first. Seven scenarios, one module each under `cache/`:
 *  1. layers: reads/s and latency of an L1 hit, an L2 hit and a source read (replica), closed loop;
 *  2. stampede: a hot key with a short TTL read by several processes, its load slow: naive
 *     cache-aside, single flight, and single flight + XFetch;
 *  3. Zipf: hit ratios per layer over 100,000 keys with a small L1, at two skews;
 *  4. multi-get: a page of keys in one MGET against one GET per key;
 *  5. a hung cache Redis (SIGSTOP of a private redis-server) under load: reads keep answering;
 *  6. per-request costs: a session lookup and a rate-limit check;
 *  7. invalidation: when another process's L1 stops serving a value written through or tagged.
 * Writes bench/results/<date>-<machine>-cache.md and prints it.
 *   npm run bench:cache -- --seconds 5 --stampede-seconds 10 --processes 4 --zipf-requests 200000
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRedis } from '@murmur/redis';
import { type BenchContext, connect, endpoints, log } from './cache/common';
import { l2Outage, outageSection } from './cache/l2-outage';
import { invalidation, invalidationSection } from './cache/invalidation';
import { layers, layersSection } from './cache/layers';
import { multiGet, multiGetSection } from './cache/multi-get';
import { costsSection, perRequestCosts } from './cache/per-request-costs';
import { stampede, stampedeSection } from './cache/stampede';
import { zipf, zipfSection } from './cache/zipf';
import { reportPlace } from './report';

const OPTIONS = {
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
  'invalidation-rounds': { type: 'string', default: '300' },
  'outage-port': { type: 'string', default: '16390' },
  out: { type: 'string', default: 'bench/results' },
} as const;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: OPTIONS, strict: true });
  const num = (name: Exclude<keyof typeof OPTIONS, 'out'>): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n <= 0) {
      throw new Error(`--${name} must be a positive number, got ${values[name]}`);
    }
    return n;
  };
  const started = Date.now();
  const e = endpoints();
  const { pool, redis } = await connect(e, 10);
  const { rows } = await pool.query<{ id: string }>(
    'SELECT id::text AS id FROM users ORDER BY id LIMIT 1000',
  );
  if (rows.length < 10) {
    throw new Error(`only ${rows.length} users on the replica: run \`npm run seed\` first`);
  }
  const ctx: BenchContext = {
    endpoints: e,
    pool,
    redis,
    ids: rows.map((r) => r.id),
    run: `${process.pid}`,
  };
  log(`dev stack: Redis ${e.redisUrl}, replica ${e.replicaUrl}; ${ctx.ids.length} seeded users`);

  const short = { seconds: Math.min(3, num('seconds')), concurrency: num('concurrency') };
  const layersOptions = { seconds: num('seconds'), concurrency: num('concurrency') };
  const stampedeOptions = {
    processes: num('processes'),
    readers: num('readers'),
    seconds: num('stampede-seconds'),
    ttlSeconds: num('ttl-seconds'),
    loadMs: num('load-ms'),
  };
  const zipfOptions = {
    keys: num('zipf-keys'),
    l1Entries: num('l1-entries'),
    requests: num('zipf-requests'),
    concurrency: num('concurrency'),
    skews: [1.0, 0.8],
  };
  const multiGetOptions = { ...short, page: num('page') };
  const outageOptions = { ...short, port: num('outage-port') };

  const sections = [
    layersSection(await layers(ctx, layersOptions), layersOptions, ctx.ids.length),
    stampedeSection(await stampede(ctx, stampedeOptions), stampedeOptions),
    zipfSection(await zipf(ctx, zipfOptions), zipfOptions),
    multiGetSection(await multiGet(ctx, multiGetOptions), multiGetOptions),
    outageSection(await l2Outage(ctx, outageOptions), outageOptions),
  ];
  const dataRedis = createRedis(e.dataRedisUrl, 'data', 'bench-cache-data');
  sections.push(
    costsSection(await perRequestCosts(dataRedis, ctx.run, short), short, e.dataRedisUrl),
  );
  dataRedis.disconnect();
  const invalidationOptions = { rounds: num('invalidation-rounds') };
  sections.push(
    invalidationSection(await invalidation(ctx, invalidationOptions), invalidationOptions),
  );
  await pool.end();
  redis.disconnect();

  const { dir, date, machine } = reportPlace(values.out);
  const text = [
    `# Murmur cache bench, ${date}, ${machine}`,
    '',
    `Measured in one run by \`npm run bench:cache\` (${cpus().length} CPUs, Node ${process.version}) against`,
    `the dev stack: cache Redis ${e.redisUrl}, main replica ${e.replicaUrl.replace(/^postgres:\/\/[^@]*@/, 'postgres://')}.`,
    '',
    ...sections,
  ].join('\n');
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
