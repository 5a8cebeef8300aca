/**
 * `npm run bench:l2`: the two L2 backends of @murmur/cache side by side, in one run, on private
 * servers this bench starts itself (one redis-server set up like the stack's cache Redis, three
 * memcached nodes like the stack's), so it needs no running stack:
 *  1. throughput and p50/p99 of get, set (the version-guarded write) and getMany through the
 *     `RemoteCache` port, closed loop; Redis, Memcached, then both again (the repeat shows noise);
 *  2. memory per entry: the growth of Redis's used_memory and of memcached's item bytes and
 *     slab memory over a batch of profile-sized entries;
 *  3. a node lost mid-run under read-through load: one memcached node (a third of the keys) or
 *     the one Redis is SIGKILLed, then started again empty; the hit ratio per 250 ms window, its
 *     dip, the time back to 95% of the ratio before, failed calls and the slowest read.
 * Writes bench/results/<date>-<machine>-l2.md and prints it.
 *   npm run bench:l2 -- --seconds 5 --concurrency 32 --loss-seconds 16
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  type CacheEntry,
  DEFAULT_MEMCACHED_CLUSTER,
  MemcachedCluster,
  MemcachedRemoteCache,
  RedisRemoteCache,
  RedisTags,
  type RemoteCache,
} from '@murmur/cache';
import { createRedis } from '@murmur/redis';
import { freePort, lineProbe, memcachedArgs } from '@murmur/stack';
import type { Redis } from 'ioredis';
import { fmt, pct, sleep } from './cache/common';
import { markdownTable, section } from './cache/report';
import { summariseLoss, type LossSummary, type Window } from './l2-windows';
import { reportPlace } from './report';
import { runClosedLoop, type LoopResult } from './stats';

const OPTIONS = {
  seconds: { type: 'string', default: '5' },
  concurrency: { type: 'string', default: '32' },
  keys: { type: 'string', default: '10000' },
  page: { type: 'string', default: '20' },
  'memory-entries': { type: 'string', default: '20000' },
  'loss-keys': { type: 'string', default: '50000' },
  'loss-seconds': { type: 'string', default: '16' },
  out: { type: 'string', default: 'bench/results' },
} as const;

type Profile = Record<string, string | number>;
const WINDOW_MS = 250;
const log = (line: string): void => void process.stderr.write(`[bench:l2] ${line}\n`);
const TTL_SECONDS = 600;

/** A profile-sized value (about the user service's cached profile). */
function profile(i: number): Profile {
  return {
    id: String(1_000_000 + i),
    username: `user_${i}`,
    email: `user_${i}@example.test`,
    display_name: `User Number ${i}`,
    bio: 'Writes about caches, queues and the occasional sourdough loaf. '.repeat(2),
    follower_count: i % 1000,
    following_count: i % 300,
    created_at: '2026-11-20T10:00:00.000Z',
    updated_at: '2026-11-21T10:00:00.000Z',
  };
}
const entryOf = (i: number, ver = 1): CacheEntry<Profile> => ({
  v: profile(i),
  ver,
  exp: Date.now() + TTL_SECONDS * 1000,
});

/** One backend as the bench drives it. */
interface Backend {
  name: 'Redis' | 'Memcached';
  remote(ns: string): RemoteCache<Profile>;
  /** bytes the server(s) hold for entries now: [main figure, second figure or NaN] */
  memory(): Promise<[number, number]>;
  /** the node lost in section 3, and its return (empty) */
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** the share of `keys` (in namespace `ns`) that live on the node `kill` takes */
  lostShare(ns: string, keys: string[]): number;
  stop(): Promise<void>;
}

/** A server process on `port`, started again by `start()` after `kill()`. */
class Server {
  private proc?: ChildProcess;

  constructor(
    private readonly cmd: string,
    private readonly args: string[],
    private readonly ready: () => Promise<boolean>,
  ) {}

  async start(): Promise<void> {
    const proc = spawn(this.cmd, this.args, { stdio: 'ignore' });
    proc.on('error', () => undefined); // reported below as "did not start"
    this.proc = proc;
    process.once('exit', () => proc.kill('SIGKILL'));
    const deadline = Date.now() + 5_000;
    while (!(await this.ready())) {
      if (Date.now() > deadline) {
        throw new Error(`${this.cmd} ${this.args.join(' ')} did not start (is it installed?)`);
      }
      await sleep(20);
    }
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
  }
}

async function redisBackend(): Promise<Backend & { url: string }> {
  const port = await freePort();
  // As the stack's cache Redis (libs/stack/src/redis.ts): no persistence, bounded, LRU.
  const server = new Server(
    'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--maxmemory', '256mb', '--maxmemory-policy', 'allkeys-lru'],
    ],
    () => lineProbe(port, 'PING', '+PONG', 500),
  );
  await server.start();
  const url = `redis://127.0.0.1:${port}`;
  const redis: Redis = createRedis(url, 'cache', 'bench-l2');
  await new Promise<void>((resolve) =>
    redis.status === 'ready' ? resolve() : redis.once('ready', () => resolve()),
  );
  const usedMemory = async (): Promise<number> =>
    Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  return {
    name: 'Redis',
    url,
    remote: (ns) => new RedisRemoteCache<Profile>(redis, { name: ns }),
    memory: async () => [await usedMemory(), NaN],
    kill: () => server.kill(),
    restart: () => server.start(),
    lostShare: () => 1,
    stop: async () => {
      redis.disconnect();
      await server.kill();
    },
  };
}

async function memcachedBackend(tagsRedis: Redis): Promise<Backend> {
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const servers = ports.map(
    (port) =>
      new Server('memcached', memcachedArgs({ port, memoryMb: 128 }), () =>
        lineProbe(port, 'version', 'VERSION', 500),
      ),
  );
  await Promise.all(servers.map((s) => s.start()));
  const nodes = ports.map((p) => `127.0.0.1:${p}`);
  const cluster = new MemcachedCluster({ ...DEFAULT_MEMCACHED_CLUSTER, servers: nodes });
  const lost = 1;
  const sum = async (group: string | undefined, stat: string): Promise<number> =>
    (await Promise.all(nodes.map((n) => cluster.stats(n, group)))).reduce(
      (total, s) => total + Number(s.get(stat) ?? 0),
      0,
    );
  return {
    name: 'Memcached',
    remote: (ns) =>
      new MemcachedRemoteCache<Profile>({
        name: ns,
        cluster,
        tags: RedisTags.forEntriesElsewhere(tagsRedis, ns),
      }),
    memory: async () => [await sum(undefined, 'bytes'), await sum('slabs', 'total_malloced')],
    kill: () => servers[lost].kill(),
    restart: () => servers[lost].start(),
    lostShare: (ns, keys) =>
      keys.filter((k) => cluster.ring.nodeFor(`cache:${ns}:${k}`) === nodes[lost]).length /
      keys.length,
    stop: async () => {
      cluster.close();
      await Promise.all(servers.map((s) => s.kill()));
    },
  };
}

interface SpeedRow {
  backend: string;
  op: string;
  result: LoopResult;
}

async function speed(
  b: Backend,
  run: string,
  options: { seconds: number; concurrency: number; keys: number; page: number },
): Promise<SpeedRow[]> {
  const ns = `bench-speed-${run.replace(/\W+/g, '-')}-${process.pid}`;
  const remote = b.remote(ns);
  const key = (): string => `k${Math.floor(Math.random() * options.keys)}`;
  for (let i = 0; i < options.keys; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, options.keys - i) }, (_, j) =>
        remote.setIfNewer(`k${i + j}`, entryOf(i + j), TTL_SECONDS),
      ),
    );
  }
  let ver = 1;
  const must = <R>(r: R | undefined | false): R => {
    if (r === undefined || r === false) {
      throw new Error('not reached');
    }
    return r;
  };
  const ops: Array<[string, () => Promise<unknown>]> = [
    ['get', async () => must(await remote.get(key()))],
    ['set', async () => must(await remote.setIfNewer(key(), entryOf(0, ++ver), TTL_SECONDS))],
    [
      `getMany(${options.page})`,
      async () => must(await remote.getMany(Array.from({ length: options.page }, key))),
    ],
  ];
  const rows: SpeedRow[] = [];
  for (const [op, fn] of ops) {
    const result = await runClosedLoop(options.concurrency, options.seconds * 1000, fn);
    log(
      `${run} ${op}: ${fmt(result.rps)} ops/s, p50 ${fmt(result.p50, 2)} ms, ` +
        `p99 ${fmt(result.p99, 2)} ms, ${result.errors} errors`,
    );
    rows.push({ backend: run, op, result });
  }
  return rows;
}

interface MemoryRow {
  backend: string;
  entries: number;
  valueBytes: number;
  perEntry: number;
  perEntrySlabs: number;
}

async function memory(b: Backend, entries: number): Promise<MemoryRow> {
  const ns = `bench-mem-${process.pid}`;
  const remote = b.remote(ns);
  const [before, beforeSlabs] = await b.memory();
  for (let i = 0; i < entries; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, entries - i) }, (_, j) =>
        remote.setIfNewer(`m${i + j}`, entryOf(i + j), TTL_SECONDS),
      ),
    );
  }
  const [after, afterSlabs] = await b.memory();
  const row = {
    backend: b.name,
    entries,
    valueBytes: JSON.stringify(entryOf(entries)).length,
    perEntry: (after - before) / entries,
    perEntrySlabs: (afterSlabs - beforeSlabs) / entries,
  };
  log(
    `${b.name} memory: ${fmt(row.perEntry)} B/entry` +
      (Number.isNaN(row.perEntrySlabs) ? '' : `, ${fmt(row.perEntrySlabs)} B/entry of slab memory`),
  );
  return row;
}

interface LossRow {
  backend: string;
  lostShare: number;
  loss: LossSummary;
  rejoin: LossSummary;
  windows: Window[];
}

async function nodeLoss(
  b: Backend,
  options: { concurrency: number; keys: number; seconds: number },
): Promise<LossRow> {
  const ns = `bench-loss-${process.pid}`;
  const remote = b.remote(ns);
  const keys = Array.from({ length: options.keys }, (_, i) => `u${i}`);
  for (let i = 0; i < keys.length; i += 500) {
    await Promise.all(
      keys.slice(i, i + 500).map((k, j) => remote.setIfNewer(k, entryOf(i + j), TTL_SECONDS)),
    );
  }
  const totalMs = options.seconds * 1000;
  const killAt = Math.round(totalMs / 4);
  const restartAt = Math.round((totalMs * 5) / 8);
  const windows: Window[] = Array.from({ length: Math.ceil(totalMs / WINDOW_MS) }, (_, i) => ({
    atMs: i * WINDOW_MS,
    reads: 0,
    hits: 0,
    errors: 0,
    maxMs: 0,
  }));
  const started = performance.now();
  const faults = (async () => {
    await sleep(killAt);
    await b.kill();
    log(`${b.name}: node killed at ${fmt(performance.now() - started)} ms`);
    await sleep(Math.max(0, restartAt - (performance.now() - started)));
    await b.restart();
    log(`${b.name}: node back (empty) at ${fmt(performance.now() - started)} ms`);
  })();
  // A bypassed L2 answers without I/O: the callers would then spin on microtasks and starve the
  // timers and child-process events of the fault schedule (a real service waits for its next
  // request). One yield per read keeps the event loop turning for every backend alike.
  await runClosedLoop(options.concurrency, totalMs, async () => {
    await new Promise((r) => setImmediate(r));
    const i = Math.floor(Math.random() * keys.length);
    const t0 = performance.now();
    const got = await remote.get(keys[i]);
    const ms = performance.now() - t0;
    const w = windows[Math.min(windows.length - 1, Math.floor((t0 - started) / WINDOW_MS))];
    w.reads++;
    w.maxMs = Math.max(w.maxMs, ms);
    if (got?.ok) {
      w.hits++;
      return;
    }
    if (!got) {
      w.errors++;
    }
    // read-through: the source's answer goes back to L2 (the source itself is not measured)
    await remote.setIfNewer(keys[i], entryOf(i), TTL_SECONDS);
  });
  await faults;
  const loss = summariseLoss(windows, killAt, { untilMs: restartAt });
  const row = {
    backend: b.name,
    lostShare: b.lostShare(ns, keys),
    loss,
    // back to the ratio before the loss, not to the outage's
    rejoin: summariseLoss(windows, restartAt, { baseline: loss.before }),
    windows,
  };
  const say = (s: LossSummary): string =>
    `hit ratio ${pct(s.before)} → ${pct(s.dip)}, back to 95% in ` +
    `${s.recoveryMs === undefined ? 'never' : `${fmt(s.recoveryMs)} ms`}, ${s.errors} failed ` +
    `calls, slowest read ${fmt(s.maxMs, 1)} ms`;
  log(`${b.name} node loss: ${pct(row.lostShare)} of keys lost; ${say(row.loss)}`);
  log(`${b.name} node back: ${say(row.rejoin)}`);
  return row;
}

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
  const redis = await redisBackend();
  // Memcached's tags live in a Redis: here a second private one, so that its memory is not
  // counted as Redis's (the bench writes no tags; the connection stays idle).
  const tags = await redisBackend();
  const tagsRedis = createRedis(tags.url, 'cache', 'bench-l2-tags');
  const memcached = await memcachedBackend(tagsRedis);
  try {
    const speedOptions = {
      seconds: num('seconds'),
      concurrency: num('concurrency'),
      keys: num('keys'),
      page: num('page'),
    };
    log(
      `1/3 speed: ${speedOptions.concurrency} workers, ${speedOptions.seconds} s per op, ` +
        `${speedOptions.keys} keys`,
    );
    const speedRows = [
      ...(await speed(redis, 'Redis', speedOptions)),
      ...(await speed(memcached, 'Memcached', speedOptions)),
      ...(await speed(redis, 'Redis again', speedOptions)),
      ...(await speed(memcached, 'Memcached again', speedOptions)),
    ];
    log(`2/3 memory: ${num('memory-entries')} entries each`);
    const memoryRows = [
      await memory(redis, num('memory-entries')),
      await memory(memcached, num('memory-entries')),
    ];
    const lossOptions = {
      concurrency: num('concurrency'),
      keys: num('loss-keys'),
      seconds: num('loss-seconds'),
    };
    log(`3/3 node loss: ${lossOptions.keys} keys, ${lossOptions.seconds} s each`);
    const lossRows = [await nodeLoss(memcached, lossOptions), await nodeLoss(redis, lossOptions)];
    const text = report(speedRows, memoryRows, lossRows, {
      ...speedOptions,
      lossKeys: lossOptions.keys,
      lossSeconds: lossOptions.seconds,
      tookSeconds: (Date.now() - started) / 1000,
    });
    const { dir, date, machine } = reportPlace(values.out);
    const file = path.join(dir, `${date}-${machine}-l2.md`);
    writeFileSync(file, text);
    console.log(`\n${text}`);
    log(`written to ${file}`);
  } finally {
    tagsRedis.disconnect();
    await Promise.all([redis.stop(), tags.stop(), memcached.stop()]);
  }
}

function report(
  speedRows: SpeedRow[],
  memoryRows: MemoryRow[],
  lossRows: LossRow[],
  o: {
    seconds: number;
    concurrency: number;
    keys: number;
    page: number;
    lossKeys: number;
    lossSeconds: number;
    tookSeconds: number;
  },
): string {
  const { date, machine } = reportPlace('bench/results');
  const ms = (n: number): string => fmt(n, 2);
  const recovery = (s: LossSummary): string =>
    s.recoveryMs === undefined ? 'not within the phase' : `${fmt(s.recoveryMs)} ms`;
  return [
    `# Murmur L2 bench: Redis vs Memcached, ${date}, ${machine}`,
    '',
    `Measured in one run by \`npm run bench:l2\` (${cpus().length} CPUs, Node ${process.version}, ` +
      `${fmt(o.tookSeconds)} s) on private servers it starts itself: one redis-server set up as ` +
      "the stack's cache Redis (no persistence, 256 MB, allkeys-lru) and three memcached nodes " +
      '(128 MB each, TCP only), each with the adapters the services use (`RedisRemoteCache`, ' +
      '`MemcachedRemoteCache` over a `MemcachedCluster` with its default timeout and mark-down ' +
      'rule). Client, servers and bench share the same cores.',
    '',
    section(
      '1. Throughput and latency through the L2 port',
      [
        `${o.concurrency} concurrent callers, ${o.seconds} s per operation, over ${fmt(o.keys)} ` +
          'profile-sized keys all present. `set` is the version-guarded write (Redis: one Lua ' +
          'script; Memcached: `gets` then `cas`, two round trips); `getMany` is one MGET (Redis) ' +
          `or one \`get\` per node in parallel (Memcached) of ${o.page} keys. "again" rows repeat ` +
          'the first two: their difference is the noise of this machine.',
      ],
      markdownTable(
        [
          { head: 'backend', cell: (r: SpeedRow) => r.backend },
          { head: 'op', cell: (r: SpeedRow) => r.op },
          { head: 'ops/s', numeric: true, cell: (r: SpeedRow) => fmt(r.result.rps) },
          { head: 'p50 ms', numeric: true, cell: (r: SpeedRow) => ms(r.result.p50) },
          { head: 'p99 ms', numeric: true, cell: (r: SpeedRow) => ms(r.result.p99) },
          { head: 'errors', numeric: true, cell: (r: SpeedRow) => String(r.result.errors) },
        ],
        speedRows,
      ),
    ),
    section(
      '2. Memory per entry',
      [
        "The growth of each server's memory over a batch of entries, divided by the entries. " +
          "Redis: INFO memory's used_memory. Memcached: `stats` bytes (the items: key, value and " +
          'item header) and `stats slabs` total_malloced (the slab pages it took, which includes ' +
          "each slab class's rounding), summed over the three nodes.",
      ],
      markdownTable(
        [
          { head: 'backend', cell: (r: MemoryRow) => r.backend },
          { head: 'entries', numeric: true, cell: (r: MemoryRow) => fmt(r.entries) },
          { head: 'value JSON B', numeric: true, cell: (r: MemoryRow) => fmt(r.valueBytes) },
          { head: 'B/entry', numeric: true, cell: (r: MemoryRow) => fmt(r.perEntry) },
          {
            head: 'B/entry (slab pages)',
            numeric: true,
            cell: (r: MemoryRow) => (Number.isNaN(r.perEntrySlabs) ? '–' : fmt(r.perEntrySlabs)),
          },
        ],
        memoryRows,
      ),
    ),
    section(
      '3. A node lost mid-run',
      [
        `Read-through load (${o.concurrency} callers; a miss writes the value back) over ` +
          `${fmt(o.lossKeys)} keys for ${o.lossSeconds} s. At a quarter of the run one node is ` +
          'SIGKILLed: for Memcached one of three (its keys remap to the other two on the ring), ' +
          'for Redis the only one (the breaker opens; reads go to the source). At five eighths it ' +
          'is started again, empty, and rejoins. Hit ratio per 250 ms window; "back" is the ' +
          'first window at 95% of the ratio before; "failed calls" are reads that could not ' +
          'reach L2 until then.',
      ],
      markdownTable(
        [
          { head: 'backend', cell: (r: LossRow) => r.backend },
          { head: 'keys lost', numeric: true, cell: (r: LossRow) => pct(r.lostShare) },
          { head: 'hit ratio before', numeric: true, cell: (r: LossRow) => pct(r.loss.before) },
          { head: 'dip', numeric: true, cell: (r: LossRow) => pct(r.loss.dip) },
          { head: 'back in', numeric: true, cell: (r: LossRow) => recovery(r.loss) },
          { head: 'failed calls', numeric: true, cell: (r: LossRow) => fmt(r.loss.errors) },
          { head: 'slowest read ms', numeric: true, cell: (r: LossRow) => ms(r.loss.maxMs) },
          { head: 'dip at rejoin', numeric: true, cell: (r: LossRow) => pct(r.rejoin.dip) },
          { head: 'back in (rejoin)', numeric: true, cell: (r: LossRow) => recovery(r.rejoin) },
        ],
        lossRows,
      ),
    ),
    '### Hit ratio per second around the loss',
    '',
    markdownTable(
      [
        { head: 's', cell: (r: { s: number }) => String(r.s) },
        ...lossRows.map((l) => ({
          head: l.backend,
          numeric: true,
          cell: (r: { s: number }) => {
            const ws = l.windows.filter((w) => Math.floor(w.atMs / 1000) === r.s);
            const reads = ws.reduce((n, w) => n + w.reads, 0);
            return reads === 0 ? '–' : pct(ws.reduce((n, w) => n + w.hits, 0) / reads);
          },
        })),
      ],
      Array.from({ length: Math.ceil(o.lossSeconds) }, (_, s) => ({ s })),
    ),
    '',
  ].join('\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
