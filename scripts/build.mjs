#!/usr/bin/env node
// Compile every project into dist/ (one tsc program), rewrite @murmur/* aliases to relative
// paths so plain `node` can run the output, and copy the .proto files beside the code.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const run = (file, args) => {
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', file), ...args], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    process.exit(r.status ?? 1);
  }
};
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
run('typescript/bin/tsc', ['-p', 'tsconfig.build.json']);
run('tsc-alias/dist/bin/index.js', ['-p', 'tsconfig.build.json']);
const protos = path.join(root, 'libs', 'contracts', 'proto');
if (existsSync(protos)) {
  cpSync(protos, path.join(root, 'dist', 'libs', 'contracts', 'proto'), { recursive: true });
}
console.log(`build: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
