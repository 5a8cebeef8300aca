#!/usr/bin/env node
// Compile every project into dist/ (one tsc program over tsconfig.build.json), rewrite the
// @murmur/* path aliases to relative paths so plain `node` runs the output, and copy the .proto
// files beside the code. Plain ESM, no dependencies beyond the dev tools it runs.
//
// It builds into dist.next/ and swaps it in only when everything succeeded: a failed build
// leaves the last good dist/ in place, and files whose source was deleted never linger (a stale
// compiled migration would still be found and run).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
// The project runs on Node 24 (node_modules/.bin/node); fall back to whatever runs this script.
const node24 = path.join(root, 'node_modules', '.bin', 'node');
const node = existsSync(node24) ? node24 : process.execPath;
const next = path.join(root, 'dist.next');
const dist = path.join(root, 'dist');
const old = path.join(root, 'dist.old');

const run = (label, file, args) => {
  const t0 = Date.now();
  const r = spawnSync(node, [path.join(root, 'node_modules', file), ...args], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    rmSync(next, { recursive: true, force: true });
    console.error(`build: ${label} failed; dist/ is unchanged`);
    process.exit(r.status ?? 1);
  }
  console.log(`build: ${label} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
};

rmSync(next, { recursive: true, force: true });
run('tsc', 'typescript/bin/tsc', ['-p', 'tsconfig.build.json', '--outDir', next]);
run('tsc-alias', 'tsc-alias/dist/bin/index.js', ['-p', 'tsconfig.build.json', '--outDir', next]);
const protos = path.join(root, 'libs', 'contracts', 'proto');
if (existsSync(protos)) {
  cpSync(protos, path.join(next, 'libs', 'contracts', 'proto'), { recursive: true });
}
// bootstrap.mjs rebuilds when a source is newer than this stamp. It carries the build's start
// time, so a file saved during the build still counts as newer.
const stamp = path.join(next, '.build-stamp');
writeFileSync(stamp, `${new Date(started).toISOString()}\n`);
utimesSync(stamp, new Date(started), new Date(started));

rmSync(old, { recursive: true, force: true });
if (existsSync(dist)) {
  renameSync(dist, old);
}
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
console.log(`build: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
