/**
 * One VU: a thread with its own JS context (node:vm) that runs the compiled script's init code
 * once, then the calls the runner sends (setup, iterations, teardown, handleSummary), each
 * synchronously, as a k6 VU does. Samples go back to the runner with each call's result.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import vm from 'node:vm';
import {
  createDataModule,
  createHttpModule,
  createK6Module,
  NotImplementedError,
  SyncHttp,
  type VuContext,
} from './k6-api';
import {
  isBuiltinModule,
  type FromVu,
  type Sample,
  type Tags,
  type ToVu,
  type VuInit,
} from './protocol';

const init = workerData as VuInit;
const port = parentPort;
if (!port) {
  throw new Error('vu-worker runs as a worker thread');
}
const send = (msg: FromVu): void => port.postMessage(msg);

let samples: Sample[] = [];
let scenarioTags: Tags = {};
let initDone = false;
const ctx: VuContext = {
  groupPath: '',
  tags: () => ({ ...scenarioTags, group: ctx.groupPath }),
  emit: (sample) => samples.push(sample),
};

const format = (args: unknown[]): string =>
  args
    .map((a) => {
      if (typeof a === 'string') {
        return a;
      }
      try {
        return JSON.stringify(a);
      } catch {
        return String(a);
      }
    })
    .join(' ');

/** Module files whose top-level code is running: k6 resolves open() against the innermost. */
const initStack: string[] = [];
const sandbox: Record<string, unknown> = {
  __ENV: init.env,
  __VU: init.vu,
  __ITER: 0,
  console: {
    log: (...a: unknown[]) => send({ type: 'log', level: 'info', message: format(a) }),
    info: (...a: unknown[]) => send({ type: 'log', level: 'info', message: format(a) }),
    debug: (...a: unknown[]) => send({ type: 'log', level: 'info', message: format(a) }),
    warn: (...a: unknown[]) => send({ type: 'log', level: 'warn', message: format(a) }),
    error: (...a: unknown[]) => send({ type: 'log', level: 'error', message: format(a) }),
  },
  open(file: string, mode?: string): string | ArrayBuffer {
    if (initDone) {
      throw new Error('open() can only be called from the init context');
    }
    const base = initStack[initStack.length - 1] ?? init.entry;
    const resolved = path.resolve(path.dirname(base), file);
    const bytes = readFileSync(resolved);
    if (mode === 'b') {
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    }
    if (mode !== undefined && mode !== '') {
      throw new NotImplementedError(`open() mode "${mode}"`);
    }
    return bytes.toString('utf8');
  },
};
const context = vm.createContext(sandbox);

const builtins: Record<string, () => object> = {
  k6: () => createK6Module(ctx),
  'k6/http': () => createHttpModule(ctx, new SyncHttp(init.httpPort, init.httpSignal)),
  'k6/data': () => createDataModule(),
};
const builtinCache = new Map<string, object>();
const sources = new Map(init.modules);
const loaded = new Map<string, { exports: Record<string, unknown> }>();

function requireFrom(from: string, specifier: string): unknown {
  if (isBuiltinModule(specifier)) {
    const make = builtins[specifier];
    if (!make) {
      throw new NotImplementedError(`module "${specifier}"`);
    }
    let mod = builtinCache.get(specifier);
    if (!mod) {
      mod = make();
      builtinCache.set(specifier, mod);
    }
    return mod;
  }
  return load(path.resolve(path.dirname(from), specifier));
}

function load(file: string): Record<string, unknown> {
  const cached = loaded.get(file);
  if (cached) {
    return cached.exports;
  }
  const code = sources.get(file);
  if (code === undefined) {
    throw new Error(`k6-compat: module ${file} was not compiled (only static imports are)`);
  }
  const mod = { exports: {} as Record<string, unknown> };
  loaded.set(file, mod);
  // One line of wrapper, so Babel's retained line numbers stay right in stack traces.
  const fn = new vm.Script(`(function (module, exports, require) {${code}\n})`, {
    filename: file,
  }).runInContext(context) as (
    module: unknown,
    exports: unknown,
    require: (s: string) => unknown,
  ) => void;
  initStack.push(file);
  try {
    fn.call(mod.exports, mod, mod.exports, (s: string) => requireFrom(file, s));
  } finally {
    initStack.pop();
  }
  return mod.exports;
}

/** Errors thrown by script code come from the script's own realm: no `instanceof Error`. */
const describe = (error: unknown): string => {
  if (typeof error === 'object' && error !== null && 'stack' in error) {
    return String(error.stack);
  }
  return String(error);
};

let exportsOf: Record<string, unknown>;
try {
  exportsOf = load(init.entry);
  initDone = true;
  send({
    type: 'ready',
    exports: Object.keys(exportsOf).filter((k) => typeof exportsOf[k] === 'function'),
    options: JSON.stringify(exportsOf.options ?? {}),
  });
} catch (error) {
  send({ type: 'init-error', message: describe(error) });
  process.exit(0);
}

// k6 parses setup()'s data once per VU; iterations of this VU share (and may mutate) the copy.
const setupData: unknown = init.setupData === undefined ? undefined : JSON.parse(init.setupData);

port.on('message', (msg: ToVu) => {
  samples = [];
  const started = Date.now();
  let result: string | undefined;
  let error: string | undefined;
  try {
    const fn = exportsOf[msg.type === 'call' ? msg.fn : 'handleSummary'];
    if (typeof fn !== 'function') {
      throw new Error(`no exported function "${msg.type === 'call' ? msg.fn : 'handleSummary'}"`);
    }
    if (msg.type === 'call') {
      scenarioTags = msg.scenarioTags ?? {};
      ctx.groupPath = msg.fn === 'setup' || msg.fn === 'teardown' ? `::${msg.fn}` : '';
      sandbox.__ITER = msg.iteration;
      const arg = msg.arg === undefined ? setupData : (JSON.parse(msg.arg) as unknown);
      const value: unknown = (fn as (d: unknown) => unknown).call(undefined, arg);
      result = value === undefined ? undefined : JSON.stringify(value);
    } else {
      const value: unknown = (fn as (d: unknown) => unknown).call(undefined, JSON.parse(msg.data));
      result = JSON.stringify(value ?? {});
    }
  } catch (e) {
    error = describe(e);
  }
  send({ type: 'done', samples, result, error, durationMs: Date.now() - started });
});
