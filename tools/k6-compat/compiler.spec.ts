import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scriptsUnder } from './check';
import { compileGraph, compileModule, K6CompileError } from './compiler';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

describe(compileModule.name, () => {
  const compile = (source: string): string => compileModule(source, 'script.js').code;

  it.each([
    ['object spread', 'const headers = { ...base, a: 1 };'],
    ['object rest', 'const { a, ...rest } = value;'],
    ['optional catch binding', 'try { f(); } catch { g(); }'],
    ['optional chaining', 'const x = a?.b;'],
    ['nullish coalescing', 'const x = a ?? b;'],
    ['class fields', 'class A { x = 1; }'],
  ])('rejects %s, as k6 v0.47 does', (_what, source) => {
    expect(() =>
      compile(`import http from 'k6/http';\n${source}\nexport default function () {}`),
    ).toThrow(K6CompileError);
  });

  it('accepts the modern JavaScript k6 v0.47 does run, and emits CommonJS', () => {
    const code = compile(
      [
        "import http from 'k6/http';",
        "import { check } from 'k6';",
        'export const options = { thresholds: { [`http_req_duration{endpoint:${"x"}}`]: ["p(95)<1"] } };',
        'export default function (data = {}) {',
        '  const [first, ...others] = [1, 2, 3];',
        '  for (const [k, v] of Object.entries({ a: first })) { check(v, { [k]: () => true }); }',
        '  const res = http.get(`${data.url}`, { tags: Object.assign({}, { n: others.length }) });',
        '  return 2 ** 3 + res.status;',
        '}',
        'export const f = async (a, b,) => { await a; class B extends Array {} return new B(b); };',
      ].join('\n'),
    );
    expect(code).toContain("require('k6/http')");
    expect(code).toContain('exports.default');
  });

  it('names the file and position of what it rejects', () => {
    expect(() => compileModule('const a = 1;\nconst b = { ...a };', 'lib/api.js')).toThrow(
      /lib\/api\.js: Unexpected token \(2:12\)/,
    );
  });
});

describe(compileGraph.name, () => {
  it('follows relative imports and fails on a module that only the entry imports', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'k6-compat-'));
    writeFileSync(
      path.join(dir, 'main.js'),
      "import { h } from './lib/h.js';\nexport default () => h();",
    );
    writeFileSync(
      path.join(dir, 'ok.js'),
      "import http from 'k6/http';\nexport default () => http;",
    );
    const lib = path.join(dir, 'lib');
    mkdirSync(lib);
    writeFileSync(
      path.join(lib, 'h.js'),
      'export function h() { try { return 1; } catch { return 2; } }',
    );
    expect(compileGraph(path.join(dir, 'ok.js')).size).toBe(1);
    expect(() => compileGraph(path.join(dir, 'main.js'))).toThrow(/lib\/h\.js: Unexpected token/);
  });

  it('compiles every script in loadtests/k6 and everything it imports', () => {
    const scripts = scriptsUnder([path.join(REPO_ROOT, 'loadtests', 'k6')]);
    expect(scripts.length).toBeGreaterThan(8);
    for (const script of scripts) {
      expect(() => compileGraph(script)).not.toThrow();
    }
  });
});
