import { Socket } from 'node:net';

/**
 * The bench's "realistic latency" mode: the stores answer as if across a network (about 1 ms, as
 * between zones) instead of from the same loopback. This kernel has no netem qdisc and a proxy in
 * user space would spend the two cores the services need, so the wait is a timer: every chunk of
 * bytes a store sends back reaches its client (pg, ioredis, the memcached client) `ms` later.
 * A timer costs no CPU while it waits, keeps the order of the chunks (same delay, FIFO), and a
 * request/response round trip then takes `ms` longer, pipelined commands once, as on a network.
 *
 * Only for benchmarks: SIMULATED_STORE_LATENCY_MS (0, the default, installs nothing), and every
 * bench table measured with it says so.
 */

/** `host:port` of every store in a process's config: database, Redis and Memcached URLs. */
export function storePorts(config: Record<string, unknown>): Set<number> {
  const ports = new Set<number>();
  const urls = /(?:postgres(?:ql)?|rediss?):\/\/[^\s"',]*?:(\d{1,5})(?=[/?"',\s]|$)/g;
  for (const [key, value] of Object.entries(config)) {
    // parsed config holds lists and objects too (replica URLs, the shard list)
    const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
    for (const m of text.matchAll(urls)) {
      ports.add(Number(m[1]));
    }
    if (key === 'MEMCACHED_SERVERS') {
      const servers = Array.isArray(value) ? value.map(String) : text.split(',');
      for (const server of servers) {
        const port = Number(server.trim().split(':').pop());
        if (Number.isInteger(port) && port > 0) {
          ports.add(port);
        }
      }
    }
  }
  return ports;
}

let installed: { ms: number; ports: Set<number> } | undefined;

/**
 * Delay what sockets to `ports` receive by `ms` (data, then end, in order). Once per process;
 * returns a function that removes it (for tests).
 */
export function installStoreLatency(ms: number, ports: Set<number>): () => void {
  if (ms <= 0 || ports.size === 0) {
    return () => undefined;
  }
  if (installed) {
    throw new Error('simulated store latency is already installed in this process');
  }
  installed = { ms, ports };
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the socket as this
  const emit = Socket.prototype.emit;
  Socket.prototype.emit = function (this: Socket, ...args: [string | symbol, ...unknown[]]) {
    const event = args[0];
    const port = this.remotePort;
    if ((event === 'data' || event === 'end') && port !== undefined && ports.has(port)) {
      setTimeout(() => void Reflect.apply(emit, this, args), ms);
      return true;
    }
    return Reflect.apply(emit, this, args) as boolean;
  } as typeof emit;
  return () => {
    Socket.prototype.emit = emit;
    installed = undefined;
  };
}
