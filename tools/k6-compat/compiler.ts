/**
 * k6's own compile step for ES modules, as k6 v0.47 (and every k6 up to v0.52) runs it: Babel
 * standalone 6.26 with the options of k6's `js/compiler/compiler.go`. k6 hands a file to Babel when
 * its own JS parser (goja) rejects it, which every ES module does (goja had no `import`/`export`
 * before k6 v0.53), so what Babel 6's parser rejects — object spread, optional catch binding,
 * `?.`, `??`, class fields — is a SyntaxError on those k6 versions however new the syntax is.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as Babel from 'babel-standalone';
import { isBuiltinModule } from './protocol';

/**
 * `DefaultOpts` of k6 v0.47's js/compiler/compiler.go: every ES2015+ transform is commented out
 * there ("in goja") except the ES-module to CommonJS one. k6 adds `filename` per file.
 */
export const K6_BABEL_OPTIONS = {
  plugins: [['transform-es2015-modules-commonjs', { loose: false }]],
  ast: false,
  sourceMaps: false,
  babelrc: false,
  compact: false,
  retainLines: true,
  highlightCode: false,
} as const;

/** The k6 versions whose compiler this reproduces. */
export const K6_BABEL_VERSIONS = 'k6 v0.47 – v0.52 (Babel standalone 6.26)';

export { isBuiltinModule };

export interface CompiledModule {
  /** absolute path */
  file: string;
  /** CommonJS, as k6's Babel emits it */
  code: string;
  /** import specifiers as written (built-ins included) */
  imports: string[];
}

export class K6CompileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** Compile one module's source exactly as k6 v0.47 does. */
export function compileModule(source: string, file: string): CompiledModule {
  let result: Babel.TransformResult;
  try {
    result = Babel.transform(source, { ...K6_BABEL_OPTIONS, filename: file });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Babel prefixes the file name itself; keep its "Unexpected token (line:col)".
    throw new K6CompileError(file, message.split('\n')[0].replace(`${file}: `, ''));
  }
  const { modules } = result.metadata;
  const specifiers = [
    ...modules.imports.map((i) => i.source),
    ...modules.exports.specifiers.flatMap((s) => (s.source ? [s.source] : [])),
  ];
  return { file, code: result.code, imports: [...new Set(specifiers)] };
}

/**
 * Resolve an import the way k6 does for local files: relative to the importing module. Remote
 * modules (https://jslib.k6.io/…) and bare names are not something this repo's scripts use.
 */
export function resolveImport(specifier: string, fromFile: string): string {
  if (specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/')) {
    return path.resolve(path.dirname(fromFile), specifier);
  }
  if (specifier.startsWith('file://')) {
    return new URL(specifier).pathname;
  }
  throw new K6CompileError(
    fromFile,
    `import "${specifier}": only k6 built-ins and local files are supported here`,
  );
}

/**
 * Compile a script and every local module it imports, transitively. The first failure throws
 * with the file and position, like `k6 run` would before starting.
 */
export function compileGraph(entry: string): Map<string, CompiledModule> {
  const modules = new Map<string, CompiledModule>();
  const pending = [path.resolve(entry)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (modules.has(file)) {
      continue;
    }
    if (!existsSync(file)) {
      throw new K6CompileError(file, 'no such file');
    }
    const compiled = compileModule(readFileSync(file, 'utf8'), file);
    modules.set(file, compiled);
    for (const specifier of compiled.imports) {
      if (!isBuiltinModule(specifier)) {
        pending.push(resolveImport(specifier, file));
      }
    }
  }
  return modules;
}
