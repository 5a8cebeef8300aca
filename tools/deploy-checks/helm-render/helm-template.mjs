#!/usr/bin/env node
// `helm template` without helm: builds main.go (the offline renderer) once and runs it.
//   node tools/deploy-checks/helm-render/helm-template.mjs murmur deploy/helm/murmur -n murmur [--set k=v] [-f values.yaml] [-o json]
//   node tools/deploy-checks/helm-render/helm-template.mjs --which    prints the renderer's path
// 1. Go and the Go libraries (apt-packages.txt, Debian's packages under /usr/share/gocode):
//    scripts/bootstrap.mjs installs them for `npm test`; when they are still missing and we are
//    root with apt-get, this installs them the same way (apt-get update, then install).
// 2. The build: GOPATH mode against /usr/share/gocode (no module download), into
//    node_modules/.cache/murmur-helm-render/<hash of main.go, the package list and `go version`>,
//    so it is built once and rebuilt only when one of those changes.
// 3. Runs it with the arguments given.
// Exits 3 with a line starting "SKIP:" when Go cannot be had here (not root, no apt-get, apt-get
// failed): the deploy checks then skip the rendering tests instead of failing.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const cacheRoot = path.join(root, 'node_modules', '.cache', 'murmur-helm-render');
const GOPATH = '/usr/share/gocode';
export const SKIP_EXIT_CODE = 3;

export const aptPackages = () =>
  readFileSync(path.join(here, 'apt-packages.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const log = (msg) => process.stderr.write(`[helm-render] ${msg}\n`);

/** The packages of the list dpkg does not have installed (all of them if there is no dpkg). */
function missingPackages(packages) {
  if (!has('dpkg-query')) {
    return has('go') ? [] : packages;
  }
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Abbrev}\n', ...packages], {
    encoding: 'utf8',
  });
  const installed = new Set(
    (r.stdout ?? '')
      .split('\n')
      .filter((l) => /^\S+ ii/.test(l))
      .map((l) => l.split(' ')[0]),
  );
  return packages.filter((p) => !installed.has(p));
}

/** Installs what is missing; returns why it could not, or undefined. */
function ensurePackages() {
  const missing = missingPackages(aptPackages());
  if (missing.length === 0) {
    return undefined;
  }
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    return (
      `Go and its libraries are not installed (${missing.join(' ')}), and this is not root with ` +
      'apt-get: run `npm test` (scripts/bootstrap.mjs installs them) or ' +
      `\`sudo apt-get install ${missing.join(' ')}\``
    );
  }
  log(`installing ${missing.join(' ')} (apt-get update && apt-get install) …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-q'],
    ['install', '-y', '-q', '--no-install-recommends', ...missing],
  ]) {
    const r = spawnSync('apt-get', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      return `apt-get ${args[0]} failed: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`;
    }
  }
  const still = missingPackages(aptPackages());
  return still.length > 0 ? `apt-get did not install ${still.join(' ')}` : undefined;
}

const goBin = () =>
  has('go') ? 'go' : ['/usr/lib/go/bin/go', '/usr/bin/go'].find((p) => existsSync(p));

/** Builds the renderer unless this exact build exists; returns its path or why not. */
export function ensureRenderer() {
  const why = ensurePackages();
  if (why) {
    return { skip: why };
  }
  const go = goBin();
  if (!go) {
    return { skip: 'the go command is not on PATH after installing golang-go' };
  }
  const env = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH,
    GOFLAGS: '',
    CGO_ENABLED: '0',
    GOCACHE: path.join(cacheRoot, 'go-build'),
    GOTOOLCHAIN: 'local',
  };
  const version = spawnSync(go, ['version'], { encoding: 'utf8', env }).stdout ?? '';
  const source = readFileSync(path.join(here, 'main.go'));
  const hash = createHash('sha256')
    .update(source)
    .update(aptPackages().join('\n'))
    .update(version)
    .digest('hex')
    .slice(0, 16);
  const bin = path.join(cacheRoot, hash, 'helm-render');
  if (existsSync(bin)) {
    return { bin };
  }
  mkdirSync(cacheRoot, { recursive: true });
  const tmp = mkdtempSync(path.join(cacheRoot, 'build-'));
  log(`building the renderer (${version.trim()}, GOPATH=${GOPATH}) …`);
  // GOPATH mode resolves an import like github.com/Masterminds/sprig/v3 to Debian's copy (no /v3
  // directory; its go.mod says .../v3) only for "module-aware" code: code inside a GOPATH tree
  // with a go.mod. So main.go is built from such a tree, made here.
  const gopath = path.join(tmp, 'gopath');
  const pkg = path.join(gopath, 'src', 'murmur', 'helm-render');
  mkdirSync(pkg, { recursive: true });
  copyFileSync(path.join(here, 'main.go'), path.join(pkg, 'main.go'));
  writeFileSync(path.join(pkg, 'go.mod'), 'module murmur/helm-render\n\ngo 1.19\n');
  const r = spawnSync(go, ['build', '-trimpath', '-o', path.join(tmp, 'helm-render'), '.'], {
    cwd: pkg,
    env: { ...env, GOPATH: `${gopath}${path.delimiter}${GOPATH}` },
    encoding: 'utf8',
  });
  rmSync(gopath, { recursive: true, force: true });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    // A build error is a bug to fix, not a reason to skip.
    throw new Error(`go build of ${path.join(here, 'main.go')} failed:\n${r.stderr}`);
  }
  try {
    renameSync(tmp, path.dirname(bin));
  } catch {
    // another process built the same hash first: use its build
    rmSync(tmp, { recursive: true, force: true });
  }
  // Builds of older sources are of no more use.
  for (const entry of readdirSync(cacheRoot)) {
    if (/^[0-9a-f]{16}$/.test(entry) && entry !== hash) {
      rmSync(path.join(cacheRoot, entry), { recursive: true, force: true });
    }
  }
  return { bin };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  let result;
  try {
    result = ensureRenderer();
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  if (result.skip) {
    process.stdout.write(`SKIP: ${result.skip}\n`);
    process.exit(SKIP_EXIT_CODE);
  }
  if (args[0] === '--which') {
    process.stdout.write(`${result.bin}\n`);
    process.exit(0);
  }
  const run = spawnSync(result.bin, args, { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
