#!/usr/bin/env node
// Entry point of `npm start`, `npm test`, `npm run stack:*` and `npm run migrate`.
// Runs on the system Node (20+) with no dependencies, makes the machine ready, then hands over
// to Node 24 (installed from the npm registry's `node` package into node_modules/.bin/node):
//   1. npm packages (npm install when node_modules is missing or package-lock.json changed)
//   2. nginx (Debian's package through apt-get when missing and we are root)
//   3. Node 24
//   4. a build when any source is newer than the last build
//   5. the command itself: the stack CLI, or the test pipeline
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [command = 'start', ...passthrough] = process.argv.slice(2);
const t0 = Date.now();
const step = (msg) =>
  console.log(`[murmur ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
const fail = (msg) => {
  console.error(`\n✖ ${msg}`);
  process.exit(1);
};
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const isRoot = process.getuid?.() === 0;

function ensurePackages() {
  const lock = path.join(root, 'package-lock.json');
  const stampFile = path.join(root, 'node_modules', '.murmur-install-stamp');
  const want = createHash('sha256').update(readFileSync(lock)).digest('hex');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === want) {
    return;
  }
  // `npm install` with the committed lock installs exactly the locked versions. Not `npm ci`:
  // npm 11 leaves other platforms' optional packages (e.g. @swc/core-darwin-arm64) out of the lock
  // it writes, then refuses that same lock in `npm ci`.
  step('installing npm packages (npm install, from package-lock.json) …');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    fail('npm install failed');
  }
  writeFileSync(stampFile, want);
  step('npm packages installed');
}

function ensureNginx() {
  if (has('nginx') || existsSync('/usr/sbin/nginx')) {
    return;
  }
  if (!isRoot || !has('apt-get')) {
    fail(
      'nginx is not installed. Install it (Debian/Ubuntu: sudo apt-get install nginx) and run this again.',
    );
  }
  step('installing nginx from Debian packages (apt-get) …');
  // Keep the package from starting a system nginx on :80 (no init system is needed for ours).
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) {
    writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [
      ['update', '-q'],
      ['install', '-y', '-q', '--no-install-recommends', 'nginx'],
    ]) {
      const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
      if (r.status !== 0) {
        fail(`apt-get ${args[0]} failed`);
      }
    }
  } finally {
    if (ownPolicy) {
      rmSync(policy, { force: true });
    }
  }
  step('nginx installed');
}

function node24() {
  const bin = path.join(root, 'node_modules', '.bin', 'node');
  if (!existsSync(bin)) {
    fail(
      'Node 24 is missing from node_modules/.bin/node: run `npm ci` (the `node` package brings it).',
    );
  }
  const version = execFileSync(bin, ['--version']).toString().trim();
  if (Number(version.replace(/^v/, '').split('.')[0]) < 24) {
    fail(`node_modules/.bin/node is ${version}; Node 24 is required.`);
  }
  return bin;
}

function newest(dir, exts, acc = { t: 0 }) {
  if (!existsSync(dir)) {
    return acc.t;
  }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) {
      continue;
    }
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      newest(p, exts, acc);
    } else if (
      exts.some((e) => entry.name.endsWith(e)) &&
      !/\.(spec|integration-spec|e2e-spec)\.ts$/.test(entry.name)
    ) {
      acc.t = Math.max(acc.t, statSync(p).mtimeMs);
    }
  }
  return acc.t;
}

function ensureBuild(node) {
  const stamp = path.join(root, 'dist', '.build-stamp');
  const sources = Math.max(
    ...['libs', 'services', 'tools'].map((d) => newest(path.join(root, d), ['.ts', '.proto'])),
    ...['tsconfig.base.json', 'tsconfig.build.json', 'package-lock.json'].map(
      (f) => statSync(path.join(root, f)).mtimeMs,
    ),
  );
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= sources) {
    return;
  }
  step('building (tsc) …');
  const r = spawnSync(node, [path.join(root, 'scripts', 'build.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    fail('build failed');
  }
  mkdirSync(path.dirname(stamp), { recursive: true });
  writeFileSync(stamp, new Date().toISOString());
}

const quick =
  ['down', 'status'].includes(command) &&
  existsSync(path.join(root, 'node_modules', '.bin', 'node'));
if (!quick) {
  ensurePackages();
  if (['start', 'up', 'test'].includes(command)) {
    ensureNginx();
  }
}
const node = node24();
if (!quick) {
  ensureBuild(node);
}

const target =
  command === 'test'
    ? [path.join(root, 'scripts', 'test.mjs'), ...passthrough]
    : [path.join(root, 'dist', 'libs', 'stack', 'src', 'cli.js'), command, ...passthrough];
if (!['start', 'up', 'down', 'status', 'migrate', 'test'].includes(command)) {
  fail(`unknown command ${command}`);
}
if (!quick) {
  step(`running ${command} on Node ${execFileSync(node, ['--version']).toString().trim()}`);
}
const child = spawn(node, target, { cwd: root, stdio: 'inherit' });
// The child is in our process group and gets Ctrl-C itself; forward only what the terminal does not.
process.on('SIGTERM', () => child.kill('SIGTERM'));
process.on('SIGINT', () => undefined);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
