/**
 * `npm run bench`: what each pattern buys, measured in one run on the dev stack through NGINX.
 * For every configuration (all patterns on, then each switched off by its real config) the bench
 * restarts the dev stack with the switch in the environment, warms it up, runs every journey at a
 * fixed connection count (closed loop), waits for the workers to drain, and moves on. The
 * all-on configuration also measures the ceilings (NGINX answering by itself; a trivial service
 * endpoint), the cost ladder, and every journey at half its closed-loop throughput (open loop). The
 * all-on configuration runs three times, and every ratio is judged against their spread. Writes
 * bench/results/<date>-<machine>.md
 * (+ .svg charts) and prints the tables. Needs `npm run seed` first; stops the dev stack at the end.
 *   npm run bench -- --duration 5 --connections 50 [--latency-ms 1] [--configs baseline,l1-off,…]
 * `npm run bench -- --capacity [options]` finds each journey's capacity instead (./capacity.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { buildTopology } from '@murmur/stack';
import {
  goalTable,
  isBaseline,
  markdownTable,
  patternTables,
  ratioChartSvg,
  reportPlace,
  type PatternRun,
  type Row,
} from './report';
import { BENCH_ENV } from './bench-env';
import { goals } from './goals';
import { runCapacity } from './capacity';
import {
  benchJourneys,
  CEILING_JOURNEYS,
  k6Headers,
  openSessions,
  pick,
  type Credentials,
  type Journey,
  type Session,
} from './journeys';
import { ladderTable, runLadder, type Rung } from './ladder/run';
import { drainWorkers, OtlpSink, restartStack, stopStack } from './stack-control';

export interface BenchConfig {
  name: string;
  /** what is switched off, in words */
  label: string;
  env: Record<string, string>;
  /** services export spans to the OTLP sink (as to Jaeger) */
  tracing: boolean;
}

export { BENCH_ENV };

/**
 * The all-on configuration runs three times (first, in the middle, last): how far runs of the
 * same thing differ on this machine, i.e. which ratios mean something.
 */
const ALL_ON = (name: string, label: string): BenchConfig => ({
  name,
  label,
  env: {},
  tracing: true,
});

export const CONFIGS: BenchConfig[] = [
  ALL_ON('baseline', 'all patterns on'),
  { name: 'l1-off', label: 'L1 cache off', env: { CACHE_L1_ENABLED: 'false' }, tracing: true },
  { name: 'l2-off', label: 'L2 cache off', env: { CACHE_L2_ENABLED: 'false' }, tracing: true },
  {
    name: 'no-cache',
    label: 'L1 and L2 off',
    env: { CACHE_L1_ENABLED: 'false', CACHE_L2_ENABLED: 'false' },
    tracing: true,
  },
  ALL_ON('baseline-2', 'all patterns on, again (noise)'),
  {
    name: 'replicas-off',
    label: 'read replicas off (primary only)',
    env: { READ_REPLICAS_ENABLED: 'false' },
    tracing: true,
  },
  {
    name: 'fan-in',
    label: 'fan-out on write off (fan-in at read)',
    env: { FANOUT_ON_WRITE: 'false' },
    tracing: true,
  },
  {
    name: 'write-behind',
    label: 'likes written behind (instead of through)',
    env: { WRITE_BEHIND_ENABLED: 'true' },
    tracing: true,
  },
  { name: 'tracing-off', label: 'tracing off', env: { TRACING_ENABLED: 'false' }, tracing: false },
  {
    name: 'tracing-100',
    label: 'every request traced (sampler 1.0 instead of 0.1)',
    env: { OTEL_TRACES_SAMPLER_ARG: '1' },
    tracing: true,
  },
  ALL_ON('baseline-3', 'all patterns on, a third time (noise)'),
];

const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

async function run(
  base: string,
  journey: Journey,
  sessions: Session[],
  options: { connections: number; duration: number; overallRate?: number },
): Promise<Omit<Row, 'name' | 'kind' | 'mode'>> {
  const result = await autocannon({
    url: base,
    connections: options.connections,
    duration: options.duration,
    overallRate: options.overallRate,
    requests: [
      {
        setupRequest: (req) => {
          const session = pick(sessions);
          const r = journey.next(session);
          return {
            ...req,
            method: r.method,
            path: r.path,
            body: r.body,
            headers: { ...k6Headers(journey.auth ? session.token : undefined), ...r.headers },
          };
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    okRps: result['2xx'] / options.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      warmup: { type: 'string', default: '6' },
      configs: { type: 'string', default: CONFIGS.map((c) => c.name).join(',') },
      sessions: { type: 'string', default: '50' },
      credentials: { type: 'string', default: 'loadtests/data/seed-credentials.json' },
      out: { type: 'string', default: 'bench/results' },
      // the realistic latency mode: every store reply arrives this many ms late (simulated)
      'latency-ms': { type: 'string', default: '0' },
      // the cost ladder before the baseline's journeys (--no-ladder to skip it)
      ladder: { type: 'boolean', default: true },
    },
    strict: true,
    allowNegative: true,
  });
  const latencyMs = Number(values['latency-ms']);
  if (!(latencyMs >= 0 && latencyMs <= 50)) {
    throw new Error('--latency-ms must be between 0 and 50');
  }
  const latencyEnv: Record<string, string> =
    latencyMs > 0 ? { SIMULATED_STORE_LATENCY_MS: String(latencyMs) } : {};
  const mode =
    latencyMs > 0
      ? `realistic latency mode: SIMULATED ${latencyMs} ms on every Postgres, Redis and Memcached reply (SIMULATED_STORE_LATENCY_MS, a timer in each service process; libs/observability/src/simulated-latency.ts)`
      : 'loopback mode: the stores on this machine, no added latency';
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const warmup = Number(values.warmup);
  for (const [k, v] of Object.entries({ duration, connections, warmup })) {
    if (!Number.isFinite(v) || v <= 0) {
      throw new Error(`--${k} must be a positive number`);
    }
  }
  const wanted = values.configs.split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => !CONFIGS.some((c) => c.name === w));
  if (unknown.length > 0) {
    throw new Error(
      `unknown --configs ${unknown.join(', ')}; known: ${CONFIGS.map((c) => c.name).join(', ')}`,
    );
  }
  const configs = CONFIGS.filter((c) => wanted.includes(c.name));
  const base = `http://127.0.0.1:${buildTopology({ profile: 'dev' }).nginx.port}`;
  const creds = JSON.parse(readFileSync(values.credentials, 'utf8')) as Credentials;
  const started = Date.now();
  const sink = new OtlpSink();
  const otlp = await sink.start();

  const rows: Row[] = [];
  const runs: PatternRun[] = [];
  const notes: string[] = [];
  let sessions: Session[] = [];
  let journeys: Journey[] = [];
  let ladder: Rung[] = [];
  const ceilings = CEILING_JOURNEYS;

  try {
    for (const [i, config] of configs.entries()) {
      log(
        `(${i + 1}/${configs.length}) ${config.name}: ${config.label} — restarting the dev stack …`,
      );
      const env = { ...BENCH_ENV, ...latencyEnv, ...config.env };
      const restartSeconds = await restartStack(env, config.tracing ? otlp : undefined);
      log(`  stack up in ${restartSeconds.toFixed(1)} s`);
      if (sessions.length === 0) {
        const opened = await openSessions(base, creds, Number(values.sessions));
        sessions = opened.sessions;
        journeys = benchJourneys(opened.data);
        log(`  ${sessions.length} sessions, ${opened.data.postIds.length} posts to read and like`);
      }
      // Warm-up: caches refill after the restart (the cache Redis keeps nothing) and the JIT
      // compiles every path the journeys take.
      for (const j of journeys) {
        await run(base, j, sessions, { connections, duration: warmup / journeys.length });
      }
      if (config.name === 'baseline' && values.ladder) {
        // The cost ladder, in the same run and at the same connection count as the journeys.
        ladder = await runLadder({
          connections,
          duration,
          tokens: sessions.map((s) => s.token),
          sampleRatio: BENCH_ENV.OTEL_TRACES_SAMPLER_ARG,
          otlp,
          log,
        });
      }
      const bytesBefore = sink.bytes;
      const targets = config.name === 'baseline' ? [...ceilings, ...journeys] : journeys;
      for (const j of targets) {
        process.stderr.write(`[bench]   ${j.name} at ${connections} conns for ${duration} s … `);
        const r = await run(base, j, sessions, { connections, duration });
        process.stderr.write(
          `${Math.round(r.okRps)} 2xx/s, p99 ${r.p99} ms, ${r.errors} non-2xx\n`,
        );
        runs.push({ config: config.name, journey: j.name, kind: j.kind, ...r });
        if (config.name === 'baseline') {
          rows.push({ name: j.name, kind: j.kind, mode: `${connections} conns`, ...r });
          if (j.kind !== 'ceiling') {
            // Open loop at half what the closed loop reached: the latency a journey has with room
            // to spare (issue 14's feed goal: p99 ≤ 50 ms there).
            const rate = Math.max(10, Math.round(r.okRps / 2));
            process.stderr.write(`[bench]   ${j.name} at ${rate} req/s for ${duration} s … `);
            const o = await run(base, j, sessions, { connections, duration, overallRate: rate });
            process.stderr.write(`${Math.round(o.okRps)} 2xx/s, p99 ${o.p99} ms\n`);
            rows.push({ name: j.name, kind: j.kind, mode: `${rate} req/s (half)`, ...o });
          }
        }
      }
      const drained = await drainWorkers();
      log(`  workers drained in ${drained.toFixed(1)} s`);
      notes.push(
        `| ${config.name} | ${config.label} | ${
          Object.entries(config.env)
            .map(([k, v]) => `\`${k}=${v}\``)
            .join(' ') || '—'
        } | ${restartSeconds.toFixed(1)} | ${drained.toFixed(1)} | ${config.tracing ? `${((sink.bytes - bytesBefore) / 1e6).toFixed(1)} MB` : 'off'} |`,
      );
    }
  } finally {
    log('stopping the dev stack …');
    await stopStack().catch((e: unknown) => log(`stack down failed: ${String(e)}`));
    await sink.stop();
  }

  const { dir, date, machine } = reportPlace(values.out);
  const suffix = latencyMs > 0 ? `-latency-${latencyMs}ms` : '';
  const patternSvgName = `${date}-${machine}${suffix}-patterns.svg`;
  writeFileSync(
    path.join(dir, patternSvgName),
    ratioChartSvg(
      runs,
      configs.map((c) => c.name),
      `2xx/s × the all-on mean, ${date}, ${machine}${latencyMs > 0 ? `, simulated ${latencyMs} ms` : ', loopback'}`,
    ),
  );
  const goalRows = goals({ runs, rows, ladder, latencyMode: latencyMs > 0 });
  const repeats = configs.filter((c) => isBaseline(c.name)).length;
  const baseline = markdownTable(rows);
  const patterns = patternTables(
    runs,
    configs.map((c) => c.name),
  );
  const text = [
    `# Murmur bench, ${date}, ${machine}${latencyMs > 0 ? `, simulated ${latencyMs} ms store latency` : ''}`,
    '',
    `**Mode: ${mode}.** Every table below is in this mode.`,
    '',
    `Measured in one run by \`npm run bench\` (${cpus().length} CPUs, Node ${process.version}) on the dev stack through`,
    `NGINX at ${base}; ${duration} s per run after a ${warmup} s warm-up per configuration, ${connections} connections`,
    `(closed loop) and, for the all-on run, half of each journey's closed-loop 2xx/s (open loop, autocannon \`overallRate\`). Requests rotate over ${sessions.length} seeded`,
    'sessions. Rate limits are raised and the edge `limit_req` zones are off for every configuration',
    `(${Object.entries(BENCH_ENV)
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(', ')}): the checks still run, so their`,
    'cost is in every figure. With tracing on, the services sample 10% of the traces (parent-based ratio',
    'sampler) and export their spans over OTLP/HTTP to an in-process sink that stands in for Jaeger.',
    '',
    ...(ladder.length > 0
      ? [
          '## The cost ladder',
          '',
          "Each rung adds one part to the one above: two processes behind an NGINX of the bench's own",
          'with the shared edge config, at the same connection count as the journeys. CPU µs per request',
          "are the processes' own user + system time over the run (/proc), divided by the requests.",
          '',
          ladderTable(ladder),
          '',
        ]
      : []),
    '## Goals (issue 14)',
    '',
    `Ratios from this run; the spread is that of the ${repeats} all-on runs (lowest and highest ÷ their mean).`,
    '',
    goalTable(goalRows),
    '',
    '## All patterns on: ceilings and journeys',
    '',
    baseline,
    '',
    '## Each pattern switched off',
    '',
    'Each configuration restarts the stack with one switch (below); every journey runs at the same',
    `connection count. The all-on configuration runs ${repeats} times (first, in the middle, last);`,
    'ratios are to the mean of those runs, and their own spread (lowest and highest ÷ mean) is the',
    'noise of this machine: a ratio inside it says nothing, and ✱ marks one outside it. Below ×1',
    'means the pattern was buying throughput.',
    '',
    patterns,
    '',
    `![patterns](${patternSvgName})`,
    '',
    '| config | what is off | switches | restart s | workers drained after the journeys, s | spans exported |',
    '|---|---|---|---:|---:|---:|',
    ...notes,
    '',
  ].join('\n');
  const file = path.join(dir, `${date}-${machine}${suffix}.md`);
  writeFileSync(file, text);
  console.log(`\n${text}`);
  log(
    `done in ${((Date.now() - started) / 60_000).toFixed(1)} min; report: ${path.relative(process.cwd(), file)}`,
  );
}

const args = process.argv.slice(2);
(args.includes('--capacity') ? runCapacity(args.filter((a) => a !== '--capacity')) : main()).catch(
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
