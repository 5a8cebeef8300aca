/**
 * `npm run k6 -- run [-e KEY=VALUE …] <script>`: a stand-in for `k6 run`, so that CI (and a
 * machine without k6) runs the k6 scripts unchanged. It is NOT k6: users run the real k6.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compileGraph, K6_BABEL_VERSIONS, K6CompileError } from './compiler';
import { Engine, ScriptError } from './engine';
import { OptionsError, parseOptions, type RunOptions } from './options';
import { metricTable, summaryData, thresholdTable } from './summary';
import { evaluate, parseThresholds, ThresholdError, type Threshold } from './thresholds';

/** k6's exit codes for the cases the stand-in reproduces. */
export const EXIT = { thresholdsFailed: 99, invalidConfig: 104, scriptException: 107, usage: 2 };

const HEADER = `k6-compat: a stand-in for k6, NOT k6. It runs k6 scripts compiled as ${K6_BABEL_VERSIONS}
compile them, on Node worker threads, so that CI can run this repo's scripts without a k6 binary.
Load tests are meant for the real k6 (https://k6.io): its figures are the ones to trust.`;

export const HELP = `${HEADER}

Usage:
  npm run k6 -- run [flags] <script.js>
  node dist/tools/k6-compat/run run [flags] <script.js>

Flags (a subset of k6 run's):
  -e, --env KEY=VALUE            set __ENV.KEY (repeatable)
  --include-system-env-vars=BOOL pass the process environment into __ENV (default true, as k6)
  -q, --quiet                    no progress lines
  -h, --help                     this text

Implemented: the k6 v0.47 compiler (Babel 6.26, ES modules → CommonJS) on the script and its
local imports; init context with open(), __ENV, __VU, __ITER; modules k6 (check, fail, sleep,
group), k6/http (get, post, put, patch, del, head, options, request; params.headers, params.tags,
params.timeout; response status, body, headers, timings, json(), error, error_code) and k6/data
(SharedArray); setup() once with its data JSON-copied to each VU, teardown(), handleSummary();
executors shared-iterations, per-vu-iterations, constant-vus, ramping-vus, constant-arrival-rate,
ramping-arrival-rate; metrics http_reqs, http_req_duration (and its phases), http_req_failed,
checks, iterations, iteration_duration, dropped_iterations, data_*, vus; thresholds with tag
filters; exit code 99 when a threshold fails, 104 for invalid options, 107 for script errors.

Not implemented (the run stops, naming it, when a script uses one): other k6 modules
(k6/metrics custom metrics, k6/execution, k6/crypto, k6/encoding, k6/ws, k6/net/grpc,
k6/browser, k6/experimental/*, k6/timers), remote modules (https://jslib.k6.io/…), http.batch,
cookies and jars, redirects options, TLS options, responseType, Response.json(selector) / html(),
externally-controlled executor, scenario env, abortOnFail, other options (stages are only read
as the shortcut), outputs (--out), the cloud. Redirects are not followed.
Differs from k6: one VU is a worker thread with its own node:vm context (heavier than a k6 VU),
so VUs above 8 per arrival-rate scenario start when first needed; the timings come from Node's
HTTP client (no Accept-Encoding: gzip, no HTTP/2), setupTimeout is not enforced.`;

interface Cli {
  script: string;
  env: Record<string, string>;
  quiet: boolean;
}

class UsageError extends Error {}

export function parseCli(argv: readonly string[], processEnv: NodeJS.ProcessEnv): Cli | 'help' {
  const args = [...argv];
  if (args.length === 0 || args.includes('-h') || args.includes('--help') || args[0] === 'help') {
    return 'help';
  }
  if (args[0] !== 'run') {
    throw new UsageError(`unknown command "${args[0]}": only "run" is implemented`);
  }
  args.shift();
  const cliEnv: Record<string, string> = {};
  let includeSystem = true;
  let quiet = false;
  let script: string | undefined;
  const setEnv = (pair: string | undefined): void => {
    const eq = pair?.indexOf('=') ?? -1;
    if (!pair || eq <= 0) {
      throw new UsageError(`-e needs KEY=VALUE, got "${pair ?? ''}"`);
    }
    cliEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  };
  while (args.length > 0) {
    const arg = args.shift() as string;
    if (arg === '-e' || arg === '--env') {
      setEnv(args.shift());
    } else if (arg.startsWith('--env=')) {
      setEnv(arg.slice('--env='.length));
    } else if (arg.startsWith('-e') && arg.length > 2 && !arg.startsWith('--')) {
      setEnv(arg.slice(2));
    } else if (
      arg === '--include-system-env-vars' ||
      arg.startsWith('--include-system-env-vars=')
    ) {
      includeSystem = !arg.endsWith('=false');
    } else if (arg === '-q' || arg === '--quiet') {
      quiet = true;
    } else if (arg.startsWith('-')) {
      throw new UsageError(`flag ${arg} is not implemented by the stand-in (see --help)`);
    } else if (script === undefined) {
      script = arg;
    } else {
      throw new UsageError(`one script only, got "${script}" and "${arg}"`);
    }
  }
  if (script === undefined) {
    throw new UsageError('no script given');
  }
  const env: Record<string, string> = {};
  if (includeSystem) {
    for (const [k, v] of Object.entries(processEnv)) {
      if (v !== undefined) {
        env[k] = v;
      }
    }
  }
  return { script: path.resolve(script), env: { ...env, ...cliEnv }, quiet };
}

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function run(cli: Cli): Promise<number> {
  log(HEADER);
  log(`script: ${path.relative(process.cwd(), cli.script)}\n`);
  if (!existsSync(cli.script)) {
    log(`ERRO the script ${cli.script} does not exist`);
    return EXIT.scriptException;
  }
  let modules;
  try {
    modules = compileGraph(cli.script);
  } catch (error) {
    if (error instanceof K6CompileError) {
      log(`ERRO SyntaxError (k6 v0.47's compiler): ${error.message}`);
      return EXIT.scriptException;
    }
    throw error;
  }
  const engine = new Engine({ entry: cli.script, modules, env: cli.env, log });
  let stopRequested = false;
  process.on('SIGINT', () => {
    if (stopRequested) {
      process.exit(EXIT.scriptException);
    }
    stopRequested = true;
    engine.stopping = true;
    log('stopping: Ctrl-C again to abort without a summary');
  });
  try {
    const first = await engine.startVu(0);
    let options: RunOptions;
    let thresholds: Threshold[];
    try {
      options = parseOptions(JSON.parse(first.options) as Record<string, unknown>);
      thresholds = parseThresholds(options.thresholds);
    } catch (error) {
      if (error instanceof OptionsError || error instanceof ThresholdError) {
        log(`ERRO invalid options: ${error.message}`);
        return EXIT.invalidConfig;
      }
      throw error;
    }
    for (const s of options.scenarios) {
      if (!first.exports.includes(s.exec)) {
        log(`ERRO scenario ${s.name}: the script exports no function "${s.exec}"`);
        return EXIT.invalidConfig;
      }
    }
    const has = (fn: string): boolean => first.exports.includes(fn);
    log(
      `scenarios: ${options.scenarios.map((s) => `${s.name} (${s.executor}, exec ${s.exec})`).join(', ')}`,
    );
    const started = Date.now();
    if (has('setup')) {
      const done = await first.vu.call({ type: 'call', fn: 'setup', iteration: 0 });
      engine.store.add(done.samples);
      if (done.error !== undefined) {
        log(`ERRO setup() failed: ${done.error}`);
        return EXIT.scriptException;
      }
      engine.setSetupData(done.result);
    }
    const progress = setInterval(() => {
      if (!cli.quiet) {
        const iterations = engine.store.values('iterations').length;
        const dropped = engine.store.values('dropped_iterations').length;
        log(
          `running (${Math.round((Date.now() - started) / 1000)}s): ${engine.vuCount} VUs, ${iterations} complete iterations, ${dropped} dropped`,
        );
      }
    }, 10_000);
    const scenarios = Promise.all(options.scenarios.map((s) => engine.runScenario(s)));
    await Promise.all([scenarios, engine.sampleVus(scenarios)]);
    clearInterval(progress);
    if (has('teardown')) {
      const done = await first.vu.call({
        type: 'call',
        fn: 'teardown',
        iteration: 0,
        arg: engine.setupDataJson ?? 'null',
      });
      engine.store.add(done.samples);
      if (done.error !== undefined) {
        engine.reportError('teardown()', done.error);
      }
    }
    const durationMs = Date.now() - started;
    const results = evaluate(thresholds, engine.store, durationMs / 1000);
    const data = summaryData({
      store: engine.store,
      thresholds,
      results,
      durationMs,
      trendStats: options.summaryTrendStats,
    });
    const iterations = engine.store.values('iterations').length;
    log(
      `\ndone in ${(durationMs / 1000).toFixed(1)} s: ${iterations} iterations, ${engine.store.values('dropped_iterations').length} dropped, ${engine.interrupted} interrupted, ${engine.errors} script errors, ${engine.vuCount} VUs used`,
    );
    if (has('handleSummary')) {
      const done = await first.vu.call({ type: 'summary', data: JSON.stringify(data) });
      if (done.error !== undefined) {
        log(`ERRO handleSummary() failed: ${done.error}`);
        process.stdout.write(`${metricTable(data)}\n`);
      } else {
        writeSummary(JSON.parse(done.result ?? '{}') as Record<string, unknown>);
      }
    } else {
      process.stdout.write(`${metricTable(data)}\n`);
    }
    process.stdout.write(`\n${thresholdTable(results)}\n`);
    const crossed = [...new Set(results.filter((r) => !r.ok).map((r) => r.key))];
    if (crossed.length > 0) {
      log(`ERRO thresholds on metrics '${crossed.join("', '")}' have been crossed`);
      return EXIT.thresholdsFailed;
    }
    return 0;
  } catch (error) {
    if (error instanceof ScriptError) {
      log(`ERRO ${error.message}`);
      return EXIT.scriptException;
    }
    throw error;
  } finally {
    await engine.shutdown();
  }
}

/** handleSummary's answer: `stdout`, `stderr`, or a path (relative to the working directory). */
function writeSummary(out: Record<string, unknown>): void {
  for (const [target, content] of Object.entries(out)) {
    const text = typeof content === 'string' ? content : JSON.stringify(content);
    if (target === 'stdout') {
      process.stdout.write(`${text}\n`);
    } else if (target === 'stderr') {
      process.stderr.write(`${text}\n`);
    } else {
      writeFileSync(path.resolve(target), text);
    }
  }
}

async function main(): Promise<void> {
  let cli: Cli | 'help';
  try {
    cli = parseCli(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`k6-compat (a stand-in for k6): ${error.message}\n\n${HELP}`);
      process.exit(EXIT.usage);
    }
    throw error;
  }
  if (cli === 'help') {
    console.log(HELP);
    return;
  }
  process.exitCode = await run(cli);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(
      `k6-compat: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  });
}
