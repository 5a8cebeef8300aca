/**
 * The k6 JavaScript API as far as the stand-in implements it, for one VU: `k6` (check, fail,
 * sleep, group), `k6/http` (get, post, put, patch, del, head, options, request with
 * params.headers / params.tags / params.timeout) and `k6/data` (SharedArray). Anything else that
 * real k6 has throws when touched, naming what is missing, instead of being silently ignored.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { HttpRequest, HttpResponse, Sample, Tags } from './protocol';

const DEFAULT_TIMEOUT_MS = 60_000;

export class NotImplementedError extends Error {
  constructor(what: string) {
    super(`k6-compat: ${what} is not implemented by this stand-in for k6 (real k6 has it)`);
  }
}

/** A module object that throws on any member the stand-in does not implement. */
export function strictModule(name: string, members: Record<string, unknown>): object {
  const target: Record<string | symbol, unknown> = { ...members, __esModule: true };
  const proxy = new Proxy(target, {
    get(t, key) {
      if (typeof key === 'symbol' || key in t) {
        return t[key];
      }
      throw new NotImplementedError(`${name}.${key}`);
    },
  });
  target.default = proxy;
  return proxy;
}

/** Per-VU state the API reads: the current tags and where samples go. */
export interface VuContext {
  tags: () => Tags;
  groupPath: string;
  emit: (sample: Sample) => void;
}

/** k6 durations in params: "10s", "500ms", "1m30s", or a number of ms. */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    return value;
  }
  if (typeof value !== 'string') {
    throw new Error(`invalid duration ${JSON.stringify(value)}`);
  }
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of value.matchAll(re)) {
    total += Number(match[1]) * units[match[2]];
    consumed += match[0].length;
  }
  if (consumed !== value.length || value.length === 0) {
    if (/^\d+(\.\d+)?$/.test(value)) {
      return Number(value) * 1000;
    }
    throw new Error(`invalid duration "${value}"`);
  }
  return total;
}

function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function createK6Module(ctx: VuContext): object {
  return strictModule('k6', {
    check(value: unknown, sets: Record<string, unknown>, tags?: Tags): boolean {
      let all = true;
      for (const [name, predicate] of Object.entries(sets ?? {})) {
        const ok = Boolean(
          typeof predicate === 'function'
            ? (predicate as (v: unknown) => unknown)(value)
            : predicate,
        );
        all = all && ok;
        ctx.emit({
          metric: 'checks',
          value: ok ? 1 : 0,
          tags: { ...ctx.tags(), ...(tags ?? {}), check: name },
        });
      }
      return all;
    },
    fail(message?: string): never {
      throw new Error(message ?? '');
    },
    sleep(seconds: number): void {
      blockFor(Math.max(0, Number(seconds) * 1000));
    },
    group<T>(name: string, fn: () => T): T {
      const outer = ctx.groupPath;
      ctx.groupPath = `${outer}::${name}`;
      const started = Date.now();
      try {
        return fn();
      } finally {
        ctx.emit({ metric: 'group_duration', value: Date.now() - started, tags: ctx.tags() });
        ctx.groupPath = outer;
      }
    },
  });
}

/** The HTTP side: a request goes to the HTTP thread and this VU blocks until it answers. */
export class SyncHttp {
  private readonly flag: Int32Array;

  constructor(
    private readonly port: MessagePort,
    signal: SharedArrayBuffer,
  ) {
    this.flag = new Int32Array(signal);
  }

  send(req: HttpRequest): HttpResponse {
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(req);
    for (;;) {
      Atomics.wait(this.flag, 0, 0, req.timeoutMs + 5_000);
      const received = receiveMessageOnPort(this.port);
      if (received) {
        return received.message as HttpResponse;
      }
      if (Atomics.load(this.flag, 0) === 0) {
        throw new Error('k6-compat: the HTTP thread did not answer');
      }
      blockFor(1);
    }
  }
}

const PARAM_KEYS = new Set(['headers', 'tags', 'timeout', 'responseCallback']);

/** What `http.expectedStatuses()` returns: the statuses that do not count as failed. */
class ExpectedStatuses {
  constructor(readonly ranges: ReadonlyArray<readonly [number, number]>) {}

  includes(status: number): boolean {
    return this.ranges.some(([min, max]) => status >= min && status <= max);
  }
}

/** k6's default: 200–399 are expected, anything else (and no answer) is http_req_failed. */
const DEFAULT_EXPECTED = new ExpectedStatuses([[200, 399]]);

function expectedStatuses(...specs: unknown[]): ExpectedStatuses {
  return new ExpectedStatuses(
    specs.map((spec) => {
      if (typeof spec === 'number' && Number.isInteger(spec)) {
        return [spec, spec] as const;
      }
      const range = spec as { min?: unknown; max?: unknown };
      if (typeof range?.min === 'number' && typeof range.max === 'number') {
        return [range.min, range.max] as const;
      }
      throw new Error(`expectedStatuses: invalid status ${JSON.stringify(spec)}`);
    }),
  );
}

interface Params {
  headers?: Record<string, unknown>;
  tags?: Record<string, unknown>;
  timeout?: unknown;
  responseCallback?: unknown;
}

function encodeBody(body: unknown, headers: Record<string, string>): Uint8Array | null {
  if (body === null || body === undefined) {
    return null;
  }
  if (typeof body === 'string') {
    return Buffer.from(body, 'utf8');
  }
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    return Buffer.from(body instanceof ArrayBuffer ? new Uint8Array(body) : (body as Uint8Array));
  }
  if (typeof body === 'object') {
    // k6 form-encodes an object body.
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      form.append(k, String(v));
    }
    return Buffer.from(form.toString(), 'utf8');
  }
  return Buffer.from(String(body as string | number | boolean), 'utf8');
}

export function createHttpModule(ctx: VuContext, transport: SyncHttp): object {
  const request = (method: string, url: unknown, body: unknown, params?: Params): object => {
    const p = params ?? {};
    for (const key of Object.keys(p)) {
      if (!PARAM_KEYS.has(key)) {
        throw new NotImplementedError(`http params.${key}`);
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(p.headers ?? {})) {
      headers[k] = String(v);
    }
    const target = String(url);
    const encoded = encodeBody(body, headers);
    const res = transport.send({
      method: method.toUpperCase(),
      url: target,
      headers,
      body: encoded,
      timeoutMs: p.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(p.timeout),
    });
    const callback = p.responseCallback === undefined ? DEFAULT_EXPECTED : p.responseCallback;
    if (callback !== null && !(callback instanceof ExpectedStatuses)) {
      throw new NotImplementedError('a responseCallback other than http.expectedStatuses()');
    }
    const expected = callback === null || callback.includes(res.status);
    const tags: Tags = {
      ...ctx.tags(),
      method: method.toUpperCase(),
      url: target,
      name: target,
      status: String(res.status),
      proto: res.proto,
      expected_response: String(expected),
    };
    if (res.error !== undefined) {
      tags.error = res.error;
      tags.error_code = String(res.errorCode);
    }
    for (const [k, v] of Object.entries(p.tags ?? {})) {
      tags[k] = String(v);
    }
    const t = res.timings;
    const emit = (metric: string, value: number): void => ctx.emit({ metric, value, tags });
    emit('http_reqs', 1);
    emit('http_req_duration', t.duration);
    emit('http_req_blocked', t.blocked);
    emit('http_req_connecting', t.connecting);
    emit('http_req_tls_handshaking', t.tls_handshaking);
    emit('http_req_sending', t.sending);
    emit('http_req_waiting', t.waiting);
    emit('http_req_receiving', t.receiving);
    if (callback !== null) {
      emit('http_req_failed', expected ? 0 : 1);
    }
    emit('data_sent', res.bytesSent);
    emit('data_received', res.bytesReceived);
    return {
      status: res.status,
      status_text: res.statusText,
      proto: res.proto,
      url: target,
      headers: res.headers,
      body: res.body,
      timings: { ...t },
      error: res.error ?? '',
      error_code: res.errorCode ?? 0,
      request: { method: method.toUpperCase(), url: target, headers, body: body ?? null },
      json(selector?: string): unknown {
        if (selector !== undefined) {
          throw new NotImplementedError('Response.json(selector)');
        }
        try {
          return JSON.parse(res.body) as unknown;
        } catch (error) {
          throw new Error(`cannot parse json due to an error: ${(error as Error).message}`);
        }
      },
      html(): never {
        throw new NotImplementedError('Response.html()');
      },
    };
  };
  return strictModule('k6/http', {
    expectedStatuses,
    request: (method: string, url: unknown, body?: unknown, params?: Params) =>
      request(method, url, body, params),
    get: (url: unknown, params?: Params) => request('GET', url, null, params),
    head: (url: unknown, params?: Params) => request('HEAD', url, null, params),
    post: (url: unknown, body?: unknown, params?: Params) => request('POST', url, body, params),
    put: (url: unknown, body?: unknown, params?: Params) => request('PUT', url, body, params),
    patch: (url: unknown, body?: unknown, params?: Params) => request('PATCH', url, body, params),
    del: (url: unknown, body?: unknown, params?: Params) => request('DELETE', url, body, params),
    options: (url: unknown, body?: unknown, params?: Params) =>
      request('OPTIONS', url, body, params),
  });
}

export function createDataModule(): object {
  class SharedArray {
    constructor(name: string, fn: () => unknown) {
      if (typeof fn !== 'function') {
        throw new Error('SharedArray needs a function that returns an array');
      }
      const value = fn();
      if (!Array.isArray(value)) {
        throw new Error(`SharedArray "${name}": the function must return an array`);
      }
      // Like k6: the items are JSON copies, and the array is read-only.
      const items: unknown[] = JSON.parse(JSON.stringify(value)) as unknown[];
      return Object.freeze(items);
    }
  }
  return strictModule('k6/data', { SharedArray });
}
