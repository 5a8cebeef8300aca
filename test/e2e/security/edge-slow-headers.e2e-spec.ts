import { randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { type AddressInfo, connect } from 'node:net';
import {
  requestWithin,
  stackPools,
  startEdge,
  type StartedEdge,
  type AccessLogLine,
  type TimedResponse,
  trickle,
  waitFor,
} from '@murmur/testing';

type Logged = AccessLogLine & { request_id?: string };

/**
 * OWASP API4:2023 (unrestricted resource consumption) at the edge: slow and oversized requests,
 * through a real NGINX with this checkout's config in front of the test stack's services. One
 * client address opens thousands of connections that send their headers a byte at a time
 * (slowloris), or holds request bodies open (slow POST); it must not starve a client at another
 * address, the slow connections must be cut by the header timeout, the excess ones refused by the
 * per-address connection limit, and headers Node would refuse must be refused by NGINX itself.
 * Before the fix NGINX had a 60 s header timeout, no connection limit, passed on the
 * X-Forwarded-For a client wrote, and took 32 KiB of headers that Node (16 KiB) then refused. Its
 * event loop already kept a client elsewhere answered under 5,000 slow headers (the first test
 * guards that; it passed before the fix too).
 */

/** Another loopback address per client and run, so no count is shared with an earlier run. */
const address = (): string => `127.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(2, 255)}`;

/** A header that never ends: each byte of the drip lengthens the value of X-Slow. */
const SLOW_HEADER = 'GET /api/leaderboards/posters HTTP/1.1\r\nHost: murmur.test\r\nX-Slow: ';

/** A complete header announcing a body that then arrives a byte at a time. */
const SLOW_BODY =
  'POST /api/posts HTTP/1.1\r\nHost: murmur.test\r\nContent-Type: application/json\r\n' +
  'Content-Length: 60000\r\n\r\n{"text":"';

const answered = (r: TimedResponse): number | string => ('status' in r ? r.status : r.error);

describe('slow and oversized requests at the edge (API4: one address cannot starve the others)', () => {
  /** An upstream of the test's own in the user pool: it reports the X-Forwarded-For it got. */
  let echo: Server | undefined;
  const forwardedFor: string[] = [];
  const edges: StartedEdge[] = [];
  const edgeWith = async (config: Parameters<typeof startEdge>[0]): Promise<StartedEdge> => {
    const edge = await startEdge(config);
    edges.push(edge);
    return edge;
  };
  let echoPort = 0;

  beforeAll(async () => {
    echo = createServer((req, res) => {
      forwardedFor.push(String(req.headers['x-forwarded-for']));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => echo?.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await Promise.all(edges.map((e) => e.stop()));
    echo?.closeAllConnections();
    await new Promise((resolve) => echo?.close(resolve));
  });

  it('5,000 slow headers from one address cut off no client elsewhere, which is answered at once', async () => {
    // The production timeouts: the attack's connections all stay open while the client asks.
    const edge = await edgeWith({ pools: stackPools() });
    const client = address();
    // A client on a slow link, half its request sent when the attack starts: it must not be the
    // connection an edge out of slots gives up.
    const { port } = new URL(edge.base);
    const slow = connect({ host: '127.0.0.1', port: Number(port), localAddress: client });
    let slowAnswer = '';
    slow.on('data', (c: Buffer) => (slowAnswer += c.toString()));
    const slowClosed = new Promise((resolve) => slow.on('close', resolve));
    slow.on('error', () => undefined);
    await once(slow, 'connect');
    slow.write('GET /api/leaderboards/posters HTTP/1.1\r\nHost: murmur.test\r\n');

    const attack = await trickle(edge.base, {
      // More than the worker's 4,096 connection slots.
      count: 5_000,
      localAddress: address(),
      preamble: SLOW_HEADER,
    });
    try {
      slow.write('Connection: close\r\n\r\n');
      await Promise.race([slowClosed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
      expect(slowAnswer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');

      const answers: TimedResponse[] = [];
      for (let i = 0; i < 5; i++) {
        answers.push(
          await requestWithin(edge.base, '/api/leaderboards/posters', {
            localAddress: client,
            timeoutMs: 2_000,
          }),
        );
      }
      expect(answers.map(answered)).toEqual(Array(5).fill(200));
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(1_000);
      // The attack was on while the client was answered: it held (nearly) every slot of the worker.
      expect(attack.open()).toBeGreaterThan(3_500);
    } finally {
      attack.stop();
      slow.destroy();
    }
  });

  describe('with a short header timeout and a small connection limit', () => {
    const HEADER_TIMEOUT_MS = 2_000;
    const PER_ADDRESS = 20;
    let edge: StartedEdge;

    beforeAll(async () => {
      edge = await edgeWith({
        rateLimits: { api: false, auth: false, conn: { perAddress: PER_ADDRESS } },
        timeouts: { header: `${HEADER_TIMEOUT_MS}ms` },
        pools: stackPools({ user: [echoPort] }),
      });
    });

    it('cuts a header trickled a byte at a time once the header timeout has passed', async () => {
      // A byte every 200 ms: a timer renewed by each read would never fire.
      const attack = await trickle(edge.base, {
        count: 50,
        localAddress: address(),
        preamble: SLOW_HEADER,
        intervalMs: 200,
      });
      try {
        const deadline = Date.now() + HEADER_TIMEOUT_MS + 4_000;
        while (attack.open() > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(attack.connections).toHaveLength(50);
        const closedAfter = attack.connections.map((c) => c.closedAfterMs ?? Infinity);
        expect(Math.min(...closedAfter)).toBeGreaterThanOrEqual(HEADER_TIMEOUT_MS - 100);
        expect(Math.max(...closedAfter)).toBeLessThanOrEqual(HEADER_TIMEOUT_MS + 1_500);
      } finally {
        attack.stop();
      }
    });

    it('refuses the slow bodies one address holds beyond its limit with 429, and serves another address', async () => {
      const attack = await trickle(edge.base, {
        count: PER_ADDRESS + 10,
        localAddress: address(),
        preamble: SLOW_BODY,
      });
      try {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const refused = attack.connections.filter((c) => c.received.startsWith('HTTP/1.1 429'));
        const held = attack.connections.filter((c) => c.received === '');
        expect([refused.length, held.length]).toEqual([10, PER_ADDRESS]);
        for (const { received } of refused) {
          const [head, body] = received.split('\r\n\r\n');
          expect(head).toMatch(/^content-type: application\/problem\+json$/im);
          expect(head).toMatch(/^retry-after: 1$/im);
          expect(JSON.parse(body)).toMatchObject({ status: 429, code: 'rate_limited' });
        }
        const other = await requestWithin(edge.base, '/api/leaderboards/posters', {
          localAddress: address(),
          timeoutMs: 2_000,
        });
        expect(answered(other)).toBe(200);
      } finally {
        attack.stop();
      }
    });

    describe('oversized headers', () => {
      const client = address();
      const get = (headers: Record<string, string>): Promise<TimedResponse> =>
        requestWithin(edge.base, '/api/leaderboards/posters', {
          localAddress: client,
          timeoutMs: 5_000,
          headers,
        });
      const pad = (n: number, bytes: number): Record<string, string> =>
        Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-pad-${i}`, 'a'.repeat(bytes)]));

      it('passes on headers up to NGINX’s bound, and the service accepts them', async () => {
        const res = await get(pad(2, 6_500));
        expect(answered(res)).toBe(200);
      });

      it.each([
        ['20 KiB in four lines (within the old 4 × 8 KiB, over Node’s 16 KiB)', 4, 5_000],
        ['one line of 7.5 KiB', 1, 7_500],
      ])(
        'answers %s with its own 431 problem+json, never reaching a service',
        async (_, n, bytes) => {
          const requestId = `big-${n}-${randomInt(1e9)}`;
          const res = await get({ 'x-request-id': requestId, ...pad(n, bytes) });
          if ('error' in res) {
            throw new Error(`no answer: ${res.error}`);
          }
          expect(res.status).toBe(431);
          expect(res.headers['content-type']).toContain('application/problem+json');
          expect(JSON.parse(res.body)).toMatchObject({
            status: 431,
            code: 'headers_too_large',
            requestId,
          });
          // Logged once NGINX has closed the connection (lingering close), a moment after the answer.
          const line = await waitFor(
            () =>
              Promise.resolve(edge.accessLog().find((l) => (l as Logged).request_id === requestId)),
            { what: `the access log line of ${requestId}` },
          );
          expect([line.status, ['', '-'].includes(line.upstream_addr)]).toEqual([431, true]);
        },
      );
    });

    it('passes on the client’s own address, not the X-Forwarded-For it sent', async () => {
      const client = address();
      forwardedFor.length = 0;
      const res = await requestWithin(edge.base, '/api/users/me', {
        localAddress: client,
        timeoutMs: 2_000,
        headers: { 'x-forwarded-for': '203.0.113.9' },
      });
      expect(answered(res)).toBe(200);
      expect(forwardedFor).toEqual([client]);
    });
  });

  it('behind a trusted proxy, passes on the client address that proxy reported, and only that', async () => {
    const edge = await edgeWith({
      trustedProxies: ['127.0.0.0/8'],
      pools: stackPools({ user: [echoPort] }),
    });
    forwardedFor.length = 0;
    // The proxy appends the address it saw (203.0.113.9) to what its client claimed.
    const res = await requestWithin(edge.base, '/api/users/me', {
      localAddress: address(),
      timeoutMs: 2_000,
      headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' },
    });
    expect(answered(res)).toBe(200);
    expect(forwardedFor).toEqual(['203.0.113.9']);
  });
});
