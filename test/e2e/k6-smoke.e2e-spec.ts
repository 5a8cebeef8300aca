import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serviceEnv } from '@murmur/stack';
import { REPO_ROOT, testTopology, withPostgres } from '@murmur/testing';

/**
 * Every k6 script's smoke profile, unchanged, through the k6 stand-in (tools/k6-compat) against
 * the test stack's NGINX, on a data set made by the seeder (users, graph, posts and the sessions
 * the scripts' setup() reuses). A script whose thresholds fail exits 99, and so fails here.
 */
const SCRIPTS = readdirSync(path.join(REPO_ROOT, 'loadtests', 'k6'))
  .filter((f) => f.endsWith('.js'))
  .sort();
const dist = (file: string): string => path.join(REPO_ROOT, 'dist', 'tools', file);

interface Run {
  code: number | null;
  output: string;
}

function runNode(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('k6 scripts on the k6 stand-in', () => {
  const t = testTopology();
  const baseUrl = `http://127.0.0.1:${t.nginx.port}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'murmur-k6-'));
  const credentials = path.join(dir, 'seed-credentials.json');
  const k6 = (script: string, ...env: string[]): Promise<Run> =>
    runNode(
      [
        dist('k6-compat/run.js'),
        'run',
        '--quiet',
        '--include-system-env-vars=false',
        ...[
          `BASE_URL=${baseUrl}`,
          `SEED_CREDENTIALS=${credentials}`,
          `SUMMARY_DIR=${dir}`,
          'PROFILE=smoke',
          ...env,
        ].flatMap((e) => ['-e', e]),
        script,
      ],
      { PATH: process.env.PATH },
    );

  const replicas = t.postgres.filter((n) => n.role === 'replica').map((n) => n.name);
  const setReplay = (paused: boolean): Promise<unknown> =>
    Promise.all(
      replicas.map((name) =>
        withPostgres(name, 'postgres', (c) =>
          c.query(paused ? 'SELECT pg_wal_replay_pause()' : 'SELECT pg_wal_replay_resume()'),
        ),
      ),
    );
  afterAll(() => setReplay(false));

  beforeAll(async () => {
    const stores = serviceEnv(t, t.services[0]);
    // Replicas that lag behind the bulk load (here: replay paused for the first 3 s, longer than
    // this seed takes to write). The seeder must wait for them before its warm-up, or the
    // warm-up's profile reads get 404s from the replicas, the negative cache keeps them for 5 s
    // and the scripts' first profile reads fail (a flake CI once saw on a busy machine).
    await setReplay(true);
    const resumed = new Promise((resolve) => setTimeout(resolve, 3_000)).then(() =>
      setReplay(false),
    );
    // Few posts: other suites read the posters board and expect their own users near the top.
    const seeded = await runNode(
      [
        dist('seed/main.js'),
        ...['--users', '60', '--posts', '150', '--sessions', '40', '--seed', '7'],
        ...['--out', credentials],
        // The documented path: the seeder ends by warming the read paths through the edge (a
        // smoke is 5 iterations, so its p95 is nearly its slowest request).
        ...['--warm', baseUrl, '--warm-requests', '400'],
      ],
      {
        ...process.env,
        DATABASE_URL: stores.DATABASE_URL,
        SHARDS: stores.SHARDS,
        REDIS_URL: stores.REDIS_URL,
      },
    ).then((r) => (r.code === 0 ? r : Promise.reject(new Error(`seed failed:\n${r.output}`))));
    await resumed;
    expect(seeded.output).toContain('sessions   40');
    expect(seeded.output).toMatch(new RegExp(`replicas   ${replicas.length} caught up in`));
    // Every warm-up read answered 200: nothing was missing on a replica.
    expect(seeded.output).toMatch(/warm-up {4}400 reads through \S+ in [\d.]+ s \(200: 400\)/);
  }, 60_000);

  it.each(SCRIPTS)('%s passes its smoke thresholds', async (script) => {
    const run = await k6(`loadtests/k6/${script}`);
    if (run.code !== 0) {
      throw new Error(`k6-compat exited ${run.code}:\n${run.output}`);
    }
    expect(run.output).toMatch(/all \d+ thresholds passed/);
  });

  it('exits 99, like k6, when a threshold is crossed against the stack', async () => {
    // Unauthenticated follows answer 401: http_req_failed crosses rate<0.01.
    const script = path.join(dir, 'crossed.js');
    writeFileSync(
      script,
      `import http from 'k6/http';
export const options = { iterations: 3, thresholds: { 'http_req_failed{endpoint:follow}': ['rate<0.01'] } };
export default function () {
  http.post(__ENV.BASE_URL + '/api/users/1/follow', null, { headers: { 'Content-Type': 'application/json' }, tags: { endpoint: 'follow' } });
}
`,
    );
    const run = await k6(script);
    expect(run.code).toBe(99);
    expect(run.output).toMatch(/http_req_failed\{endpoint:follow\}\s+rate<0\.01\s+1\s+FAILED/);
  });
});
