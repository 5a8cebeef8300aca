import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { installStoreLatency, storePorts } from './simulated-latency';

/** An echo server on a free port. */
async function echo(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** ms from writing `msg` until its echo is back, and what came back. */
function roundTrip(socket: Socket, msg: string): Promise<{ ms: number; got: string }> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    let got = '';
    const onData = (chunk: Buffer): void => {
      got += chunk.toString();
      if (got.length >= msg.length) {
        socket.off('data', onData);
        resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, got });
      }
    };
    socket.on('data', onData);
    socket.write(msg);
  });
}

const open = (port: number): Promise<Socket> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
  });

describe('simulated store latency (the bench’s realistic latency mode)', () => {
  it('finds the store ports in URLs, JSON shard lists and MEMCACHED_SERVERS, not in other values', () => {
    expect(
      [
        ...storePorts({
          DATABASE_URL: 'postgres://murmur:pw@127.0.0.1:15432/murmur',
          // as the schema parses them: a list, and objects
          DATABASE_REPLICA_URLS: ['postgresql://a@h:15433/m', 'postgresql://a@h:15434/m'],
          REDIS_URL: 'redis://127.0.0.1:16379',
          CACHE_REDIS_URL: 'rediss://cache:6380/0',
          SHARDS: [{ url: 'postgres://u@h:15440/p', replicaUrls: ['postgres://u@h:15441/p'] }],
          MEMCACHED_SERVERS: '127.0.0.1:16391, 127.0.0.1:16392',
          PORT: 3000,
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        }),
      ].sort(),
    ).toEqual([15432, 15433, 15434, 15440, 15441, 16379, 16391, 16392, 6380].sort());
  });

  it('delays every round trip to a listed port by the given ms, in order, and leaves other ports alone', async () => {
    const slow = await echo();
    const fast = await echo();
    const uninstall = installStoreLatency(40, new Set([slow.port]));
    const a = await open(slow.port);
    const b = await open(fast.port);
    try {
      const delayed = await roundTrip(a, 'ping');
      expect(delayed.got).toBe('ping');
      expect(delayed.ms).toBeGreaterThanOrEqual(39);
      const direct = await roundTrip(b, 'ping');
      expect(direct.ms).toBeLessThan(30);
      // a longer reply, however it is chunked, still costs one delay and keeps its order
      const t0 = Date.now();
      const three = await roundTrip(a, 'onetwothree');
      expect(three.got).toBe('onetwothree');
      expect(Date.now() - t0).toBeLessThan(40 * 2.5);
    } finally {
      uninstall();
      a.destroy();
      b.destroy();
      slow.server.close();
      fast.server.close();
    }
  });

  it('installs nothing for 0 ms', () => {
    const uninstall = installStoreLatency(0, new Set([1]));
    expect(() => installStoreLatency(0, new Set([1]))).not.toThrow();
    uninstall();
  });
});
