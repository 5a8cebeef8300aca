/**
 * The HTTP thread: performs every VU's requests for real (node:http, one keep-alive agent per VU,
 * as each k6 VU has its own connection pool), sends the answer back on the VU's port and wakes the
 * VU, which is blocked in Atomics.wait — that is what makes `http.get()` synchronous, as in k6.
 * Headers and body go out as the script gave them; like Go's client (k6), a POST/PUT/PATCH without
 * a body carries `Content-Length: 0`, and a `User-Agent` is added when the script sets none.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { parentPort, type MessagePort } from 'node:worker_threads';
import type { HttpRequest, HttpResponse, HttpTimings, ToHttp } from './protocol';

export const USER_AGENT = 'k6-compat/0.1 (stand-in for k6; https://k6.io/)';
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Go's canonical header form, which k6 scripts read (`res.headers['Content-Type']`). */
function canonical(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase())
    .join('-');
}

function perform(
  req: HttpRequest,
  agents: { http: http.Agent; https: https.Agent },
): Promise<HttpResponse> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let tSocket = t0;
    let tConnected = t0;
    let tSent = t0;
    let tFirstByte = t0;
    let settled = false;
    const headers: Record<string, string> = { ...req.headers };
    const has = (name: string): boolean =>
      Object.keys(headers).some((k) => k.toLowerCase() === name.toLowerCase());
    if (!has('user-agent')) {
      headers['User-Agent'] = USER_AGENT;
    }
    if (req.body !== null) {
      headers['Content-Length'] = String(req.body.byteLength);
    } else if (BODY_METHODS.has(req.method)) {
      headers['Content-Length'] = '0';
    }
    const timings = (end: number): HttpTimings => {
      const sending = Math.max(0, tSent - tConnected);
      const waiting = Math.max(0, tFirstByte - tSent);
      const receiving = Math.max(0, end - tFirstByte);
      return {
        blocked: Math.max(0, tSocket - t0),
        connecting: Math.max(0, tConnected - tSocket),
        tls_handshaking: 0,
        sending,
        waiting,
        receiving,
        duration: sending + waiting + receiving,
      };
    };
    const failWith = (message: string, code: number): void => {
      if (settled) {
        return;
      }
      settled = true;
      const now = performance.now();
      resolve({
        status: 0,
        statusText: '',
        proto: '',
        headers: {},
        body: '',
        timings: timings(now),
        bytesSent: 0,
        bytesReceived: 0,
        error: message,
        errorCode: code,
      });
    };
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      failWith(`invalid URL "${req.url}"`, 1020);
      return;
    }
    const secure = url.protocol === 'https:';
    const lib = secure ? https : http;
    const request = lib.request(url, {
      method: req.method,
      headers,
      agent: secure ? agents.https : agents.http,
    });
    request.setTimeout(req.timeoutMs, () => {
      request.destroy(new Error('request timeout'));
      failWith('request timeout', 1050);
    });
    request.on('socket', (socket) => {
      tSocket = performance.now();
      tConnected = tSocket;
      if (socket.connecting) {
        socket.once('connect', () => {
          tConnected = performance.now();
        });
      }
    });
    request.on('finish', () => {
      tSent = performance.now();
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      failWith(error.message, error.code === 'ECONNREFUSED' ? 1212 : 1000);
    });
    request.on('response', (res) => {
      tFirstByte = performance.now();
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => failWith(error.message, 1000));
      res.on('end', () => {
        if (settled) {
          return;
        }
        settled = true;
        const body = Buffer.concat(chunks);
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) {
            out[canonical(name)] = Array.isArray(value) ? value.join(', ') : value;
          }
        }
        resolve({
          status: res.statusCode ?? 0,
          statusText: `${res.statusCode} ${res.statusMessage ?? ''}`.trim(),
          proto: `HTTP/${res.httpVersion}`,
          headers: out,
          body: body.toString('utf8'),
          timings: timings(performance.now()),
          bytesSent: (req.body?.byteLength ?? 0) + 200,
          bytesReceived: body.byteLength + res.rawHeaders.join('').length,
        });
      });
    });
    request.end(req.body === null ? undefined : Buffer.from(req.body));
  });
}

function serve(port: MessagePort, signal: SharedArrayBuffer): void {
  const flag = new Int32Array(signal);
  const agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  port.on('message', (req: HttpRequest) => {
    void perform(req, agents).then((res) => {
      port.postMessage(res);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    });
  });
  port.on('close', () => {
    agents.http.destroy();
    agents.https.destroy();
  });
}

parentPort?.on('message', (msg: ToHttp) => {
  if (msg.type === 'register') {
    serve(msg.port, msg.signal);
  }
});
