#!/usr/bin/env node
// Entry point of `npm start`, `npm test`, `npm run stack:*` and `npm run migrate`.
// Runs on the system Node (20+) with no dependencies, makes the machine ready, then hands over to
// Node 24 (the npm registry's `node` package, installed as node_modules/.bin/node):
//   1. npm packages: npm ci when node_modules is missing or package-lock.json changed
//   2. nginx and memcached (the Memcached L2 nodes): Debian's packages through apt-get when missing
//      and we are root; for test and setup
//      also Go and the Go libraries the offline Helm renderer needs (tools/deploy-checks/helm-render)
//   3. Node 24
//   4. a build when any .ts/.proto source is newer than the last build
//   5. the command: the stack CLI (start | up | down | status | migrate | failover) or the test
//      pipeline
// `down`, `status` and `failover` skip 1-4 once installed and built: they act on a running stack,
// at once (a failover must not wait for a build).
// `setup` does 1-4 only.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [command = 'start', ...passthrough] = process.argv.slice(2);
const STACK_COMMANDS = ['start', 'up', 'down', 'status', 'migrate', 'failover'];
const COMMANDS = [...STACK_COMMANDS, 'test', 'setup', 'exec'];
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`.padStart(6);
const step = (msg) => console.log(`[murmur ${elapsed()}] ${msg}`);
const fail = (msg) => {
  console.error(`\n✖ ${msg}`);
  process.exit(1);
};
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const isRoot = process.getuid?.() === 0;
const node24Path = path.join(root, 'node_modules', '.bin', 'node');
const cliPath = path.join(root, 'dist', 'libs', 'stack', 'src', 'cli.js');

if (!COMMANDS.includes(command)) {
  fail(`unknown command "${command}": one of ${COMMANDS.join(', ')}`);
}

// 1 ─ npm packages ────────────────────────────────────────────────────────────────────────────
function ensurePackages() {
  const lock = path.join(root, 'package-lock.json');
  const stampFile = path.join(root, 'node_modules', '.murmur-install-stamp');
  const fingerprint = () =>
    createHash('sha256')
      .update(readFileSync(existsSync(lock) ? lock : path.join(root, 'package.json')))
      .digest('hex');
  if (
    existsSync(stampFile) &&
    readFileSync(stampFile, 'utf8').trim() === fingerprint() &&
    existsSync(node24Path)
  ) {
    step('✓ npm packages up to date');
    return;
  }
  const npm = (args) =>
    spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: root,
      stdio: 'inherit',
    }).status === 0;
  if (!existsSync(lock)) {
    step('installing npm packages (npm install: there is no package-lock.json) …');
    if (!npm(['install'])) {
      fail('npm install failed (see above)');
    }
  } else {
    step('installing npm packages (npm ci, from package-lock.json) …');
    const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: root,
      stdio: ['inherit', 'inherit', 'pipe'],
      encoding: 'utf8',
    });
    if (ci.status !== 0) {
      if (!/in sync/.test(ci.stderr ?? '')) {
        process.stderr.write(ci.stderr ?? '');
        fail('npm ci failed (see above)');
      }
      // npm 11 writes locks without other platforms' optional packages (e.g.
      // @swc/core-darwin-arm64) and then refuses them in `npm ci` as "out of sync", before
      // touching node_modules. `npm install` still installs the locked versions.
      step('npm ci finds the lock out of sync with package.json; using npm install …');
      if (!npm(['install'])) {
        fail('npm install failed (see above)');
      }
    } else if (ci.stderr) {
      process.stderr.write(ci.stderr);
    }
  }
  writeFileSync(stampFile, `${fingerprint()}\n`);
  step('✓ npm packages installed');
}

// 2 ─ nginx ───────────────────────────────────────────────────────────────────────────────────
const nginxInstalled = () =>
  has('nginx') || ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].some((p) => existsSync(p));
// The edge's optional brotli filter (EDGE_COMPRESSION=brotli), Debian's dynamic module.
const BROTLI_PACKAGE = 'libnginx-mod-http-brotli-filter';
const brotliInstalled = () => existsSync('/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so');

function ensureNginx() {
  if (nginxInstalled()) {
    step('✓ nginx installed');
    ensureBrotli();
    return;
  }
  if (!isRoot || !has('apt-get')) {
    fail(
      'nginx is not installed. Install it and run this again:\n' +
        '    Debian/Ubuntu: sudo apt-get install nginx\n' +
        '    macOS:         brew install nginx\n' +
        '  (or point NGINX_BIN at an nginx binary). `npm start` installs it itself when run as root.',
    );
  }
  step(`installing nginx (apt-get update && apt-get install nginx ${BROTLI_PACKAGE}) …`);
  const error = aptInstall(['nginx', BROTLI_PACKAGE]);
  if (error) {
    fail(error);
  }
  stopSystemNginx();
  step('✓ nginx installed');
}

/** brotli is optional: without it only EDGE_COMPRESSION=brotli (and its test) cannot run. */
function ensureBrotli() {
  if (brotliInstalled()) {
    step('✓ nginx brotli module installed');
    return;
  }
  if (!isRoot || !has('apt-get')) {
    step(
      `! nginx brotli module missing (apt-get install ${BROTLI_PACKAGE}); EDGE_COMPRESSION=brotli cannot run`,
    );
    return;
  }
  step(`installing ${BROTLI_PACKAGE} (apt-get) …`);
  const error = aptInstall([BROTLI_PACKAGE]);
  step(
    error ? `! ${error}: EDGE_COMPRESSION=brotli cannot run` : '✓ nginx brotli module installed',
  );
}

// 2a ─ memcached: the nodes of the Memcached L2 (CACHE_L2_BACKEND=memcached), started by the
// stack in every profile, so that switching the backend is a restart and the tests cover both.
const memcachedInstalled = () =>
  has('memcached') || ['/usr/bin/memcached', '/usr/local/bin/memcached'].some((p) => existsSync(p));

function ensureMemcached() {
  if (memcachedInstalled()) {
    step('✓ memcached installed');
    return;
  }
  if (!isRoot || !has('apt-get')) {
    fail(
      'memcached is not installed. Install it and run this again:\n' +
        '    Debian/Ubuntu: sudo apt-get install memcached\n' +
        '    macOS:         brew install memcached\n' +
        '  `npm start` installs it itself when run as root.',
    );
  }
  step('installing memcached (apt-get update && apt-get install memcached) …');
  const error = aptInstall(['memcached']);
  if (error) {
    fail(error);
  }
  // policy-rc.d kept the package from starting it; under systemd it is still enabled for boot.
  if (has('systemctl') && existsSync('/run/systemd/system')) {
    spawnSync('systemctl', ['disable', '--now', 'memcached'], { stdio: 'ignore' });
  }
  step('✓ memcached installed');
}

/**
 * apt-get update, then apt-get install of `packages` without recommends; returns an error message
 * or undefined. policy-rc.d tells the package scripts not to start services, so no system nginx
 * takes :80.
 */
function aptInstall(packages) {
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) {
    writeFileSync(policy, '#!/bin/sh\n# murmur bootstrap: do not start services\nexit 101\n', {
      mode: 0o755,
    });
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [
      ['update', '-q'],
      ['install', '-y', '-q', '--no-install-recommends', ...packages],
    ]) {
      if (spawnSync('apt-get', args, { stdio: 'inherit', env }).status !== 0) {
        return `apt-get ${args[0]} failed (see above)`;
      }
    }
    return undefined;
  } finally {
    if (ownPolicy) {
      rmSync(policy, { force: true });
    }
  }
}

/** If the package started a system nginx anyway (e.g. under systemd), stop and disable it. */
function stopSystemNginx() {
  if (has('systemctl') && existsSync('/run/systemd/system')) {
    spawnSync('systemctl', ['disable', '--now', 'nginx'], { stdio: 'ignore' });
  }
  const pidFile = '/run/nginx.pid';
  if (!existsSync(pidFile)) {
    return;
  }
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const cmdline = existsSync(`/proc/${pid}/cmdline`)
    ? readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    : '';
  if (pid > 0 && cmdline.startsWith('nginx: master')) {
    step(`stopping the system nginx the package started (pid ${pid}) …`);
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // gone already
    }
  }
}

// 2b ─ Go, for the offline Helm renderer of the deploy checks ──────────────────────────────────
// tools/deploy-checks/helm-render builds a `helm template` stand-in from Debian's Go packages
// (there is no helm binary here). Only the tests need it: without it that check fails.
function ensureGo() {
  const listFile = path.join(root, 'tools', 'deploy-checks', 'helm-render', 'apt-packages.txt');
  if (!existsSync(listFile)) {
    return;
  }
  const packages = readFileSync(listFile, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const query = has('dpkg-query')
    ? (spawnSync('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Abbrev}\n', ...packages], {
        encoding: 'utf8',
      }).stdout ?? '')
    : '';
  const installed = new Set(
    query
      .split('\n')
      .filter((l) => /^\S+ ii/.test(l))
      .map((l) => l.split(' ')[0]),
  );
  const missing = packages.filter((p) => !installed.has(p));
  if (missing.length === 0) {
    step('✓ Go (helm-render) installed');
    return;
  }
  if (!isRoot || !has('apt-get')) {
    step(
      `Go for the Helm render check is missing (${missing.join(' ')}); that check will ` +
        `fail. Debian/Ubuntu: sudo apt-get install ${missing.join(' ')}`,
    );
    return;
  }
  step(`installing Go for the Helm render check (apt-get install ${missing.join(' ')}) …`);
  const error = aptInstall(missing);
  step(error ? `Go not installed (${error}): the Helm render check will fail` : '✓ Go installed');
}

// The kustomize checks of deploy/k8s run `kubectl kustomize`. Debian 12's kubectl (1.20) is too
// old for the kustomizations, so only an apt repository that carries `kubectl` (Kubernetes' or
// Google's) can install it; without it those checks fail, and this says so before the run.
function ensureKubectl() {
  if (spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0) {
    step('✓ kubectl installed');
    return;
  }
  const candidate =
    has('apt-cache') &&
    /Candidate: 1:\d/.test(
      spawnSync('apt-cache', ['policy', 'kubectl'], { encoding: 'utf8' }).stdout,
    );
  const error = isRoot && candidate ? aptInstall(['kubectl']) : 'no apt repository offers kubectl';
  step(
    error
      ? `kubectl is missing (${error}): the deploy/k8s checks will fail. Install kubectl 1.27+ ` +
          '(https://kubernetes.io/docs/tasks/tools/) and run again.'
      : '✓ kubectl installed',
  );
}

// 3 ─ Node 24 ─────────────────────────────────────────────────────────────────────────────────
function node24() {
  if (!existsSync(node24Path)) {
    fail(
      'Node 24 is missing: node_modules/.bin/node should come with the `node` devDependency. ' +
        'Run `npm ci` (or `npm install`) and check that install scripts are allowed for `node`.',
    );
  }
  let version = '';
  try {
    version = execFileSync(node24Path, ['--version']).toString().trim();
  } catch (error) {
    fail(`node_modules/.bin/node does not run: ${error.message}`);
  }
  if (Number(version.replace(/^v/, '').split('.')[0]) < 24) {
    fail(`node_modules/.bin/node is ${version}; Node 24 is required (reinstall: npm ci).`);
  }
  return { bin: node24Path, version };
}

// 4 ─ build ───────────────────────────────────────────────────────────────────────────────────
/** The newest mtime of a build input under `dir` (spec files are not compiled: skip them). */
function newest(dir, acc = { t: 0, file: '' }) {
  if (!existsSync(dir)) {
    return acc;
  }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) {
      continue;
    }
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      newest(p, acc);
    } else if (
      /\.(ts|proto)$/.test(entry.name) &&
      !/\.(spec|integration-spec|e2e-spec)\.ts$/.test(entry.name)
    ) {
      const t = statSync(p).mtimeMs;
      if (t > acc.t) {
        acc.t = t;
        acc.file = p;
      }
    }
  }
  return acc;
}

function ensureBuild(node) {
  const stamp = path.join(root, 'dist', '.build-stamp');
  const inputs = [
    ...['libs', 'services', 'tools'].map((d) => newest(path.join(root, d))),
    ...['tsconfig.base.json', 'tsconfig.build.json']
      .map((f) => path.join(root, f))
      .filter(existsSync)
      .map((f) => ({ t: statSync(f).mtimeMs, file: f })),
  ].sort((a, b) => b.t - a.t);
  const built = existsSync(stamp) && existsSync(cliPath) ? statSync(stamp).mtimeMs : 0;
  if (built > 0 && inputs[0].t <= built) {
    step('✓ build up to date');
    return;
  }
  step(
    built === 0
      ? 'building (no build yet) …'
      : `building (${path.relative(root, inputs[0].file)} changed) …`,
  );
  const r = spawnSync(node, [path.join(root, 'scripts', 'build.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    fail('build failed (see above)');
  }
  step('✓ built');
}

// 5 ─ the command ─────────────────────────────────────────────────────────────────────────────
const onlyInfra = passthrough.join(' ').includes('--only infra');
const quick =
  ['down', 'status', 'failover'].includes(command) && existsSync(node24Path) && existsSync(cliPath);
let node = { bin: node24Path };
if (!quick) {
  ensurePackages();
  if (
    command === 'test' ||
    command === 'setup' ||
    (['start', 'up'].includes(command) && !onlyInfra)
  ) {
    ensureNginx();
  }
  if (['test', 'setup', 'start', 'up'].includes(command)) {
    ensureMemcached();
  }
  if (command === 'test' || command === 'setup') {
    ensureGo();
    ensureKubectl();
  }
  node = node24();
  step(`✓ Node ${node.version}`);
  ensureBuild(node.bin);
}
if (command === 'setup') {
  step('ready');
  process.exit(0);
}

// `exec tools/x/main -- args`: run a compiled tool (seed, benchmarks) on Node 24.
const execTarget = () => {
  const [entry, ...rest] = passthrough;
  if (!entry || !/^[a-z0-9/_-]+$/.test(entry)) {
    fail('usage: bootstrap.mjs exec <tools/...> [args]');
  }
  return [path.join(root, 'dist', `${entry}.js`), ...rest.filter((a) => a !== '--')];
};
const target =
  command === 'test'
    ? [path.join(root, 'scripts', 'test.mjs'), ...passthrough]
    : command === 'exec'
      ? execTarget()
      : [cliPath, command, ...passthrough];
if (!quick) {
  step(`${command}${passthrough.length ? ` ${passthrough.join(' ')}` : ''}`);
}
// Its own process group, so that each signal reaches it (and, for `test`, Jest under it) exactly
// once, from us: the terminal's Ctrl-C comes to us, and npm may forward the same signal again.
const child = spawn(node.bin, target, { cwd: root, stdio: 'inherit', detached: true });
const lastForwarded = new Map();
const forward = (signal) => () => {
  // One Ctrl-C can arrive twice (from the terminal and from npm): pass it on once.
  if (Date.now() - (lastForwarded.get(signal) ?? 0) < 300) {
    return;
  }
  lastForwarded.set(signal, Date.now());
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the child is gone already
  }
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, forward(signal));
}
child.on('exit', (code, signal) => {
  process.exit(code ?? 128 + (constants.signals[signal] ?? 1));
});
