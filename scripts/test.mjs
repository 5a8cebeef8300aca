#!/usr/bin/env node
// The test pipeline behind `npm test` (bootstrap.mjs installs, builds, then runs this on Node 24):
// lint, typecheck, unit tests, then integration + end-to-end tests against the real test stack.
// Ends with a summary and one closing line "N passed, N failed".
//   npm test                  everything
//   npm test -- --only unit   one stage: lint | typecheck | k6 | unit | stack
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const bin = (pkg, file) => path.join(root, 'node_modules', pkg, file);
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const reportsDir = path.join(root, 'tmp', 'test-reports');
// Counts what Jest reports broken, not only failed tests (tools/test-runner/jest-report.ts).
const { readReport } = await import(
  path.join(root, 'dist', 'tools', 'test-runner', 'jest-report.js')
);
mkdirSync(reportsDir, { recursive: true });

const stages = [
  // The module-boundary rule reads Nx's project graph: compute it first.
  {
    name: 'graph',
    cmd: [bin('nx', 'dist/bin/nx.js'), 'show', 'projects'],
    env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    quiet: true,
  },
  {
    name: 'lint',
    cmd: [bin('eslint', 'bin/eslint.js'), '.', '--max-warnings=0'],
    env: { NX_DAEMON: 'false' },
  },
  { name: 'typecheck', cmd: [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.json', '--noEmit'] },
  // The k6 scenarios are plain JS for k6 (not installed here); tsc checks them against @types/k6,
  // then k6 v0.47's own compiler (Babel 6.26, tools/k6-compat) must accept every script and import.
  { name: 'k6', cmd: [bin('typescript', 'bin/tsc'), '-p', 'loadtests/tsconfig.json'] },
  { name: 'k6', cmd: [path.join(root, 'dist', 'tools', 'k6-compat', 'check.js'), 'loadtests/k6'] },
  {
    name: 'unit',
    jest: 'jest.unit.config.js',
    projects: [{ name: 'unit', pattern: /\.spec\.ts$/ }],
  },
  {
    name: 'stack',
    jest: 'jest.stack.config.js',
    extra: ['--runInBand'],
    // A project that matches no file is a failure, not silence.
    projects: [
      { name: 'integration', pattern: /\.integration-spec\.ts$/ },
      { name: 'e2e', pattern: /\.e2e-spec\.ts$/ },
    ],
  },
];

const results = [];
let passed = 0;
let failed = 0;
for (const stage of stages) {
  if (only && stage.name !== only && !(only === 'lint' && stage.name === 'graph')) {
    continue;
  }
  const started = Date.now();
  console.log(`\n▶ ${stage.name}`);
  let cmd = stage.cmd;
  const report = path.join(reportsDir, `${stage.name}.json`);
  if (stage.jest) {
    rmSync(report, { force: true }); // never read a report an earlier run left
    cmd = [
      bin('jest', 'bin/jest.js'),
      '-c',
      stage.jest,
      '--json',
      `--outputFile=${report}`,
      ...(stage.extra ?? []),
    ];
  }
  const run = spawnSync(node, cmd, {
    cwd: root,
    stdio: stage.quiet ? 'ignore' : 'inherit',
    env: { ...process.env, ...stage.env },
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  let detail = '';
  let ok = run.status === 0;
  if (stage.jest) {
    const count = readReport(report, stage.projects);
    passed += count.passed;
    failed += count.failed;
    detail = `${count.passed} passed, ${count.failed} failed`;
    for (const problem of count.problems) {
      console.log(`✖ counted as a failure: ${problem}`);
    }
    ok = ok && count.failed === 0;
  } else if (!ok) {
    // A stage that is not a test run (lint, typecheck, k6) counts once when it fails; a
    // passing one adds nothing to the test count.
    failed += 1;
    detail = 'failed (counted as 1)';
  }
  results.push({ stage: stage.name, ok, seconds, detail });
  if (!ok && !args.includes('--keep-going')) {
    break;
  }
}

console.log('\nstage       result  time     tests');
for (const r of results) {
  console.log(
    `${r.stage.padEnd(11)} ${(r.ok ? 'ok' : 'FAILED').padEnd(7)} ${`${r.seconds}s`.padEnd(8)} ${r.detail}`,
  );
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(results.every((r) => r.ok) && results.length > 0 ? 0 : 1);
