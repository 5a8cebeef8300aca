import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { type EdgeConfig, type EdgePool, POOLS, runEdge, type StartedEdge } from '@murmur/stack';
import { REPO_ROOT, testTopology } from './stack-fixture';

export type { AccessLogLine, StartedEdge } from '@murmur/stack';

/** A real NGINX of the test's own with this checkout's shared conf.d (see runEdge). */
export const startEdge = (
  config: Pick<EdgeConfig, 'pools'> & Partial<EdgeConfig>,
): Promise<StartedEdge> => runEdge(REPO_ROOT, config);

/**
 * The test stack's pools (every service's main processes), with some pools pointed at processes
 * of the test's own instead (`{ post: [port] }`), for an edge in front of both.
 */
export function stackPools(own: Partial<Record<EdgePool['name'], number[]>> = {}): EdgePool[] {
  const t = testTopology();
  return POOLS.map((name) => ({
    name,
    servers: (
      own[name] ??
      t.services.filter((s) => s.service === name && s.entry === 'main').map((s) => s.port)
    ).map((port) => `127.0.0.1:${port}`),
  }));
}

/** One raw connection of a {@link trickle}: what the edge sent on it and when it closed it. */
export interface TrickledConnection {
  /** ms from connect until the edge closed it; undefined while it is open */
  closedAfterMs?: number;
  /** everything the edge sent */
  received: string;
}

export interface Trickle {
  /** the connections that were established (a refused or timed-out connect is left out) */
  connections: TrickledConnection[];
  /** connects that failed or were not accepted within the connect timeout */
  failedConnects: number;
  /** connections the edge has not closed */
  open: () => number;
  /** stop sending and close every connection */
  stop: () => void;
}

/**
 * A slow client, many times over: `count` raw connections to the edge from `localAddress`, each
 * sending `preamble` and then one byte of `drip` (repeated) per `intervalMs`, until the edge
 * closes it or `stop()`. With a preamble that stops inside the header this is slowloris; one that
 * ends the header and starts a body is a slow POST. Connects go in batches, so the edge's accept
 * queue does not overflow and retransmitted SYNs do not stretch the opening.
 */
export async function trickle(
  base: string,
  options: {
    count: number;
    localAddress: string;
    preamble: string;
    drip?: string;
    intervalMs?: number;
    batch?: number;
  },
): Promise<Trickle> {
  const { hostname, port } = new URL(base);
  const drip = options.drip ?? 'a';
  const sockets: Array<{ socket: Socket; state: TrickledConnection; sent: number }> = [];
  let failedConnects = 0;
  const connectOne = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = connect({
        host: hostname,
        port: Number(port),
        localAddress: options.localAddress,
      });
      const started = Date.now();
      const state: TrickledConnection = { received: '' };
      let settled = false;
      const failed = (): void => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          failedConnects++;
          socket.destroy();
          resolve();
        }
      };
      const timer = setTimeout(failed, 3_000);
      socket.on('data', (chunk: Buffer) => {
        state.received += chunk.toString('latin1');
      });
      socket.on('close', () => {
        state.closedAfterMs ??= Date.now() - started;
      });
      // Before the connect: a failed one. After: a reset by the edge, which 'close' records.
      socket.on('error', failed);
      socket.once('connect', () => {
        settled = true;
        clearTimeout(timer);
        socket.write(options.preamble);
        sockets.push({ socket, state, sent: 0 });
        resolve();
      });
    });
  const batch = options.batch ?? 250;
  for (let i = 0; i < options.count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, options.count - i) }, () => connectOne()),
    );
  }
  const interval = setInterval(() => {
    for (const s of sockets) {
      if (s.state.closedAfterMs === undefined && s.socket.writable) {
        s.socket.write(drip[s.sent++ % drip.length]);
      }
    }
  }, options.intervalMs ?? 500);
  return {
    connections: sockets.map((s) => s.state),
    get failedConnects() {
      return failedConnects;
    },
    open: () => sockets.filter((s) => s.state.closedAfterMs === undefined).length,
    stop: () => {
      clearInterval(interval);
      for (const s of sockets) {
        s.socket.destroy();
      }
    },
  };
}

export type TimedResponse =
  | { status: number; headers: IncomingHttpHeaders; body: string; ms: number }
  | { error: string; ms: number };

/**
 * One request from `localAddress` that gives up after `timeoutMs`, reporting the failure instead
 * of throwing: for asserting that a client is answered promptly while the edge is under attack.
 */
export function requestWithin(
  base: string,
  path: string,
  options: { localAddress: string; timeoutMs: number; headers?: Record<string, string> },
): Promise<TimedResponse> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = httpRequest(
      `${base}${path}`,
      // A connection of its own: none kept from an earlier request.
      { localAddress: options.localAddress, headers: options.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            ms: Date.now() - started,
          }),
        );
        res.on('error', (e) => resolve({ error: e.message, ms: Date.now() - started }));
      },
    );
    req.setTimeout(options.timeoutMs, () =>
      req.destroy(new Error(`no answer in ${options.timeoutMs} ms`)),
    );
    req.on('error', (e) => resolve({ error: e.message, ms: Date.now() - started }));
    req.end();
  });
}
