#!/usr/bin/env node
// The test pipeline behind `npm test` (bootstrap.mjs installs, builds, then runs this on Node 24):
// lint, typecheck, unit tests, then integration + end-to-end tests against the real test stack.
// Ends with a summary and one closing line "N passed, N failed".
//   npm test                  everything
//   npm test -- --only unit   one stage: lint | typecheck | k6 | unit | stack
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const bin = (pkg, file) => path.join(root, 'node_modules', pkg, file);
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const reportsDir = path.join(root, 'tmp', 'test-reports');
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
  { name: 'unit', jest: 'jest.unit.config.js' },
  { name: 'stack', jest: 'jest.stack.config.js', extra: ['--runInBand'] },
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
  if (stage.jest && existsSync(report)) {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    passed += json.numPassedTests;
    failed += json.numFailedTests;
    detail = `${json.numPassedTests} passed, ${json.numFailedTests} failed`;
  } else {
    passed += run.status === 0 ? 1 : 0;
    failed += run.status === 0 ? 0 : 1;
  }
  results.push({ stage: stage.name, ok: run.status === 0, seconds, detail });
  if (run.status !== 0 && !args.includes('--keep-going')) {
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
