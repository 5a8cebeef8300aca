/**
 * `node dist/tools/k6-compat/check <dir|file> …`: compile every k6 script (and every local module
 * it imports) with the compiler k6 v0.47 – v0.52 use, and fail on the first construct they reject.
 * Run by `npm test` (stage `k6`) on loadtests/k6.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { compileGraph, K6_BABEL_VERSIONS, K6CompileError } from './compiler';

/** Every .js file under the given paths: each is compiled as an entry, so nothing is skipped. */
export function scriptsUnder(paths: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        walk(path.join(p, name));
      }
    } else if (p.endsWith('.js')) {
      found.push(path.resolve(p));
    }
  };
  paths.forEach(walk);
  return found;
}

function main(): void {
  const targets = process.argv.slice(2);
  if (targets.length === 0) {
    console.error('usage: check <dir|file> …');
    process.exit(2);
  }
  const scripts = scriptsUnder(targets);
  let failed = 0;
  for (const script of scripts) {
    const name = path.relative(process.cwd(), script);
    try {
      const graph = compileGraph(script);
      console.log(`ok      ${name} (${graph.size} module${graph.size === 1 ? '' : 's'})`);
    } catch (error) {
      if (!(error instanceof K6CompileError)) {
        throw error;
      }
      failed++;
      console.log(`FAILED  ${name}: ${path.relative(process.cwd(), error.file)}: ${error.reason}`);
    }
  }
  console.log(
    `${scripts.length - failed} of ${scripts.length} scripts compile with the compiler of ${K6_BABEL_VERSIONS}`,
  );
  process.exit(failed === 0 && scripts.length > 0 ? 0 : 1);
}

if (require.main === module) {
  main();
}
