/**
 * `npm run bench -- --capacity`: how much each journey takes before it breaks its SLOs. For the
 * mixed workload and each journey: a short warm-up, then an open-loop step ramp of arrival rates
 * until two consecutive steps break the SLOs (./knee.ts), a bisection between the last good and
 * the first bad rate, the latencies at 50%, 80% and 100% of the knee, and an overload step that
 * holds 3× the knee. Writes bench/results/<date>-<machine>-capacity.md (+ .svg) and prints it.
 * Restarts the dev stack with production limits except the per-address ones (CAPACITY_ENV) and
 * stops it at the end; `--reuse-stack` measures the running stack as it is instead.
 *   npm run bench -- --capacity [--journeys mixed,feed,…] [--rates 25,50,100,…] [--step-seconds 5]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildTopology } from '@murmur/stack';
import { CAPACITY_ENV, keptLimits } from './bench-env';
import {
  capacityChartSvg,
  errorsAboveKnee,
  kneeLatencyTable,
  stepsTable,
  summaryTable,
  type JourneyCapacity,
  type Phase,
  type StepResult,
} from './capacity-report';
import {
  benchJourneys,
  k6Headers,
  mixedJourney,
  openSessions,
  type Credentials,
  type Journey,
  type Session,
} from './journeys';
import { endpointSlo, KneeSearch, sloViolations } from './knee';
import { reportPlace } from './report';
import { openLoopAgent, runOpenLoop, window, type OpenLoopRequest } from './open-loop';
import { drainWorkers, OtlpSink, restartStack, stopStack } from './stack-control';

const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

const DEFAULT_RATES = '25,50,100,150,200,300,400,600,800,1000,1300,1600,2000,2500,3000';
const DEFAULT_JOURNEYS = 'mixed,feed,profile,post-read,leaderboard,like,post-create';

interface Settings {
  base: string;
  rates: number[];
  stepSeconds: number;
  stepWarmup: number;
  warmup: number;
  bisect: number;
  overloadFactor: number;
  overloadSeconds: number;
  timeoutMs: number;
  lagLimitMs: number;
}

function positive(name: string, raw: string, allowZero = false): number {
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new Error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`);
  }
  return v;
}

/** Runs one step (its own warm-up, then the measured window) and prints a progress line. */
async function step(
  s: Settings,
  journey: Journey,
  send: () => OpenLoopRequest,
  agent: ReturnType<typeof openLoopAgent>,
  phase: Phase,
  rate: number,
  seconds: number,
): Promise<StepResult> {
  process.stderr.write(`[bench]   ${journey.id} ${phase} ${rate} req/s for ${seconds} s … `);
  const run = await runOpenLoop({
    base: s.base,
    rate,
    durationMs: (s.stepWarmup + seconds) * 1000,
    next: send,
    agent,
    timeoutMs: s.timeoutMs,
  });
  const w = window(run.samples, s.stepWarmup * 1000, (s.stepWarmup + seconds) * 1000);
  const violations = sloViolations(w);
  const result: StepResult = {
    phase,
    rate,
    window: w,
    violations,
    cpuShare: run.cpuShare,
    peakInFlight: run.peakInFlight,
    generatorLimited: w.lagP99 > s.lagLimitMs,
  };
  const per = (n: number): string => String(Math.round(n / w.seconds));
  process.stderr.write(
    `2xx ${per(w.all.ok)}/s, 429+503 ${per(w.all.shed)}/s, other ${per(w.all.bad)}/s, p95 ${w.all.p95.toFixed(0)} ms, ` +
      `lag p99 ${w.lagP99.toFixed(1)} ms${result.generatorLimited ? ' (generator behind)' : ''}, ` +
      `cpu ${(100 * run.cpuShare).toFixed(0)}% → ${violations.length === 0 ? 'met' : violations.join('; ')}\n`,
  );
  return result;
}

async function measureJourney(
  s: Settings,
  journey: Journey,
  sessions: Session[],
): Promise<JourneyCapacity> {
  let turn = 0;
  // Round-robin, so that each session writes at rate/sessions and the per-user write limit is
  // met only when the load itself is that high.
  const send = (): OpenLoopRequest => {
    const session = sessions[turn++ % sessions.length];
    const r = journey.next(session);
    return {
      method: r.method,
      path: r.path,
      body: r.body,
      headers: { ...k6Headers(journey.auth ? session.token : undefined), ...r.headers },
      tag: r.endpoint,
    };
  };
  const agent = openLoopAgent();
  const steps: StepResult[] = [];
  try {
    log(`${journey.name}: warm-up ${s.warmup} s at ${s.rates[0]} req/s`);
    await runOpenLoop({
      base: s.base,
      rate: s.rates[0],
      durationMs: s.warmup * 1000,
      next: send,
      agent,
      timeoutMs: s.timeoutMs,
    });
    const search = new KneeSearch(s.rates, s.bisect);
    for (let rate = search.next(); rate !== undefined; rate = search.next()) {
      const phase = search.bisecting ? 'bisect' : 'ramp';
      const r = await step(s, journey, send, agent, phase, rate, s.stepSeconds);
      steps.push(r);
      search.record(rate, r.violations.length === 0);
    }
    const knee = search.knee;
    log(
      `${journey.name}: knee ${knee ?? '–'} req/s (${search.status}${search.firstBad ? `, first failing ${search.firstBad}` : ''})`,
    );
    // a knee not reached is only a lower bound: shares and multiples of it would mislead
    if (knee !== undefined && search.status === 'found') {
      for (const share of [0.5, 0.8, 1]) {
        const rate = Math.max(1, Math.round(knee * share));
        steps.push(await step(s, journey, send, agent, 'profile', rate, s.stepSeconds));
      }
      if (s.overloadSeconds > 0) {
        const rate = Math.round(knee * s.overloadFactor);
        steps.push(await step(s, journey, send, agent, 'overload', rate, s.overloadSeconds));
      }
    }
    return {
      id: journey.id,
      name: journey.name,
      status: search.status,
      knee,
      firstBad: search.firstBad,
      blips: search.blips,
      steps,
    };
  } finally {
    agent.destroy();
  }
}

function reportText(
  s: Settings,
  results: JourneyCapacity[],
  meta: {
    argv: string[];
    date: string;
    machine: string;
    svgName: string;
    sessions: number;
    reuse: boolean;
  },
): string {
  const limits = meta.reuse
    ? 'the running stack’s own (`--reuse-stack`: the bench did not set them)'
    : `production defaults except the per-address limits, which one load-generating address would trip by itself: raised ${Object.entries(
        CAPACITY_ENV,
      )
        .filter(([k]) => k !== 'OTEL_TRACES_SAMPLER_ARG')
        .map(([k, v]) => `\`${k}=${v}\``)
        .join(', ')}; kept ${keptLimits()
        .map((l) => `\`${l}\``)
        .join(', ')}, so their 429s are counted as shed load. Tracing samples 10% of traces`;
  const worstLag = Math.max(...results.flatMap((j) => j.steps.map((x) => x.window.lagP99)));
  const sections = results.flatMap((j) => [
    `## ${j.name}`,
    '',
    `Knee: **${j.status === 'found' ? `${j.knee} req/s` : j.status === 'not-reached' ? `≥ ${j.knee} req/s (every rate tried met the SLOs)` : `below ${j.firstBad} req/s (the first rate broke the SLOs)`}**${
      j.blips.length > 0
        ? `; single failing steps below it (noise?): ${j.blips.join(', ')} req/s`
        : ''
    }. SLOs: ${[...new Set(j.steps.flatMap((x) => Object.keys(x.window.byTag)))]
      .map((t) => `${t} p95 < ${endpointSlo(t).p95Ms} ms`)
      .join(', ')}, under 1% non-2xx.`,
    '',
    stepsTable(j),
    '',
    'Latency at 50%, 80% and 100% of the knee (from the scheduled send):',
    '',
    kneeLatencyTable(j),
    '',
    errorsAboveKnee(j),
    '',
  ]);
  return [
    `# Murmur capacity, ${meta.date}, ${meta.machine}`,
    '',
    `Measured by \`npm run bench -- --capacity${meta.argv.length ? ` ${meta.argv.join(' ')}` : ''}\` (${cpus().length} CPUs, Node ${process.version}) on the dev stack through NGINX at ${s.base}.`,
    '',
    `- **Open loop**: requests leave on a fixed schedule (request i at i/rate s), answered or not, over a pool of keep-alive sockets (up to 2,048); latency runs from the scheduled send, so a slow answer cannot hold back the next request (no coordinated omission). A request unanswered after ${s.timeoutMs / 1000} s counts as a timeout.`,
    `- **Steps**: ${s.warmup} s warm-up per journey, then each rate for ${s.stepWarmup} s (not counted) + ${s.stepSeconds} s (counted); ramp ${s.rates.join(', ')} req/s, stopped after two consecutive failing steps, then ${s.bisect} bisection step(s); the overload step holds ${s.overloadFactor}× the knee for ${s.overloadSeconds} s.`,
    '- **SLOs** (as `loadtests/k6/lib/config.js`): p95 < 200 ms overall and per endpoint, feed p95 < 50 ms, under 1% of requests non-2xx. A 429 or 503 is load shed as designed, but it fails the SLO like any other non-2xx.',
    `- **Requests**: the k6 scripts' headers (\`Content-Type: application/json\` on every request, \`Authorization: Bearer\`), round-robin over ${meta.sessions} seeded sessions (a write journey at R req/s writes R/${meta.sessions} per user per second).`,
    `- **Limits**: ${limits}.`,
    `- **Generator**: it shares the machine's ${cpus().length} cores with the stack. ⚠ marks a step whose send lag p99 exceeded ${s.lagLimitMs} ms: there the generator was behind its schedule and may be the limit, not the stack (worst send lag p99 of the run: ${worstLag.toFixed(1)} ms).`,
    '',
    '## Summary',
    '',
    summaryTable(results),
    '',
    `![goodput against offered load](${meta.svgName})`,
    '',
    ...sections,
  ].join('\n');
}

export async function runCapacity(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rates: { type: 'string', default: DEFAULT_RATES },
      'step-seconds': { type: 'string', default: '5' },
      'step-warmup': { type: 'string', default: '1' },
      warmup: { type: 'string', default: '5' },
      bisect: { type: 'string', default: '2' },
      'overload-factor': { type: 'string', default: '3' },
      'overload-seconds': { type: 'string', default: '30' },
      timeout: { type: 'string', default: '10' },
      'lag-limit': { type: 'string', default: '10' },
      journeys: { type: 'string', default: DEFAULT_JOURNEYS },
      sessions: { type: 'string', default: '1000' },
      'reuse-stack': { type: 'boolean', default: false },
      credentials: { type: 'string', default: 'loadtests/data/seed-credentials.json' },
      out: { type: 'string', default: 'bench/results' },
    },
    strict: true,
  });
  const settings: Settings = {
    base: `http://127.0.0.1:${buildTopology({ profile: 'dev' }).nginx.port}`,
    rates: values.rates.split(',').map((r) => positive('rates', r.trim())),
    stepSeconds: positive('step-seconds', values['step-seconds']),
    stepWarmup: positive('step-warmup', values['step-warmup'], true),
    warmup: positive('warmup', values.warmup),
    bisect: Math.floor(positive('bisect', values.bisect, true)),
    overloadFactor: positive('overload-factor', values['overload-factor']),
    overloadSeconds: positive('overload-seconds', values['overload-seconds'], true),
    timeoutMs: positive('timeout', values.timeout) * 1000,
    lagLimitMs: positive('lag-limit', values['lag-limit']),
  };
  new KneeSearch(settings.rates); // validates the ramp before anything starts
  const wanted = values.journeys.split(',').map((j) => j.trim());
  const creds = JSON.parse(readFileSync(values.credentials, 'utf8')) as Credentials;
  const started = Date.now();
  const reuse = values['reuse-stack'];
  const sink = new OtlpSink();
  const results: JourneyCapacity[] = [];
  let sessionCount = 0;
  try {
    if (reuse) {
      log(`measuring the running dev stack at ${settings.base} as it is (--reuse-stack)`);
    } else {
      log('restarting the dev stack with production limits except the per-address ones …');
      const seconds = await restartStack(CAPACITY_ENV, await sink.start());
      log(`  stack up in ${seconds.toFixed(1)} s`);
    }
    const opened = await openSessions(settings.base, creds, Number(values.sessions));
    sessionCount = opened.sessions.length;
    const all = [mixedJourney(opened.data), ...benchJourneys(opened.data)];
    const unknown = wanted.filter((w) => !all.some((j) => j.id === w));
    if (unknown.length > 0) {
      throw new Error(
        `unknown --journeys ${unknown.join(', ')}; known: ${all.map((j) => j.id).join(', ')}`,
      );
    }
    log(`${sessionCount} sessions, ${opened.data.postIds.length} posts to read and like`);
    for (const id of wanted) {
      const journey = all.find((j) => j.id === id) as Journey;
      results.push(await measureJourney(settings, journey, opened.sessions));
      if (journey.kind === 'write' || journey.id === 'mixed') {
        const drained = await drainWorkers().catch((e: unknown) => {
          log(`  workers not drained: ${String(e)}`);
          return NaN;
        });
        log(`  workers drained in ${drained.toFixed(1)} s`);
      }
    }
  } finally {
    if (!reuse) {
      log('stopping the dev stack …');
      await stopStack().catch((e: unknown) => log(`stack down failed: ${String(e)}`));
      await sink.stop();
    }
  }

  const { dir, date, machine } = reportPlace(values.out);
  const svgName = `${date}-${machine}-capacity.svg`;
  writeFileSync(
    path.join(dir, svgName),
    capacityChartSvg(results, `Goodput against offered load, ${date}, ${machine}`),
  );
  const text = reportText(settings, results, {
    argv,
    date,
    machine,
    svgName,
    sessions: sessionCount,
    reuse,
  });
  const file = path.join(dir, `${date}-${machine}-capacity.md`);
  writeFileSync(file, text);
  console.log(`\n${text}`);
  log('summary:');
  for (const j of results) {
    const o = j.steps.find((x) => x.phase === 'overload');
    const bad = o ? (o.window.all.byKey['502'] ?? 0) + (o.window.all.byKey['504'] ?? 0) : undefined;
    log(
      `  ${j.id}: knee ${j.knee ?? '–'} req/s (${j.status})${
        o
          ? `; at ${o.rate} req/s offered ${Math.round(o.window.all.ok / o.window.seconds)} 2xx/s, ${bad} responses 502/504`
          : ''
      }`,
    );
  }
  log(
    `done in ${((Date.now() - started) / 60_000).toFixed(1)} min; report: ${path.relative(process.cwd(), file)}`,
  );
}
