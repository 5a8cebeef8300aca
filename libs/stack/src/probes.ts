import { createConnection } from 'node:net';

/**
 * Send one text-protocol `command` to a server on 127.0.0.1:`port` over a raw socket (no client
 * library needed) and tell whether its first reply line starts with `expect`.
 */
export function lineProbe(
  port: number,
  command: string,
  expect: string,
  timeoutMs = 1000,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n')) {
        done(reply.startsWith(expect));
      }
    });
  });
}

/** PING a Redis server (loading an AOF answers -LOADING: up, but not ready yet). */
export const redisPing = (port: number, timeoutMs = 1000): Promise<boolean> =>
  lineProbe(port, 'PING', '+PONG', timeoutMs);

/** Ask a memcached node for its `version`. */
export const memcachedVersion = (port: number, timeoutMs = 1000): Promise<boolean> =>
  lineProbe(port, 'version', 'VERSION ', timeoutMs);

export async function httpOk(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Poll `probe` until it holds or `timeoutMs` passes. `abort` ends the wait early with its
 * message, e.g. when the process being waited for has exited.
 */
export async function until(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  options: { intervalMs?: number; abort?: () => string | undefined } = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = options.abort?.();
    if (reason) {
      throw new Error(reason);
    }
    if (await probe()) {
      return true;
    }
    if (Date.now() >= deadline) {
      return false;
    }
    await sleep(options.intervalMs ?? 100);
  }
}
