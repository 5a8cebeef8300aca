/**
 * `npm run bench:ladder`: the cost ladder alone, against a running dev stack (its Redis holds the
 * sessions and limits): `npm run stack:up && npm run seed` first.
 *   npm run bench:ladder -- [--duration 5] [--connections 50]
 * `npm run bench` runs the same ladder inside its baseline configuration.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BENCH_ENV } from '../bench-env';
import { type Credentials } from '../journeys';
import { OtlpSink } from '../stack-control';
import { ladderTable, runLadder } from './run';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      credentials: { type: 'string', default: 'loadtests/data/seed-credentials.json' },
    },
  });
  const creds = JSON.parse(readFileSync(values.credentials, 'utf8')) as Credentials;
  // As many sessions as the journeys rotate over (a session cache must not see one caller only).
  const tokens = (creds.sessions ?? []).slice(0, 50).map((s) => s.token);
  if (tokens.length === 0) {
    throw new Error(`${values.credentials} has no seeded session: run npm run seed`);
  }
  const started = Date.now();
  // The tracing rung exports its spans as in the bench (without an endpoint the SDK is not even
  // started, and the rung would measure nothing).
  const sink = new OtlpSink();
  const otlp = await sink.start();
  const rungs = await runLadder({
    connections: Number(values.connections),
    duration: Number(values.duration),
    tokens,
    sampleRatio: BENCH_ENV.OTEL_TRACES_SAMPLER_ARG,
    otlp,
    log: (m) => process.stderr.write(`[bench:ladder] ${m}\n`),
  });
  await sink.stop();
  console.log(ladderTable(rungs));
  process.stderr.write(`[bench:ladder] done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
