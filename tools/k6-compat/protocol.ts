/** Messages between the runner (main thread), the VU threads and the HTTP thread. */
import type { MessagePort } from 'node:worker_threads';

export type Tags = Record<string, string>;

export interface Sample {
  metric: string;
  value: number;
  tags: Tags;
}

/** What a VU thread starts with. */
export interface VuInit {
  vu: number;
  entry: string;
  /** absolute path → CommonJS code from the k6 compiler */
  modules: Array<[string, string]>;
  env: Record<string, string>;
  /** setup()'s return value, as JSON (k6 hands each VU its own copy) */
  setupData?: string;
  /** to the HTTP thread */
  httpPort: MessagePort;
  /** Int32 flag the HTTP thread raises when a response is ready */
  httpSignal: SharedArrayBuffer;
}

export type ToVu =
  | {
      type: 'call';
      fn: string;
      scenario?: string;
      scenarioTags?: Tags;
      iteration: number;
      arg?: string;
    }
  | { type: 'summary'; data: string };

export type FromVu =
  | { type: 'ready'; exports: string[]; options: string }
  | { type: 'init-error'; message: string }
  | { type: 'done'; samples: Sample[]; result?: string; error?: string; durationMs: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
  timeoutMs: number;
}

export interface HttpTimings {
  blocked: number;
  connecting: number;
  tls_handshaking: number;
  sending: number;
  waiting: number;
  receiving: number;
  duration: number;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  proto: string;
  headers: Record<string, string>;
  body: string;
  timings: HttpTimings;
  bytesSent: number;
  bytesReceived: number;
  error?: string;
  errorCode?: number;
}

export type ToHttp = { type: 'register'; port: MessagePort; signal: SharedArrayBuffer };

/** Modules k6 provides itself: never read from disk. */
export function isBuiltinModule(specifier: string): boolean {
  return specifier === 'k6' || specifier.startsWith('k6/');
}
