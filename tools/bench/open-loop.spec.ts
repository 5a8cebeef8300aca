import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { k6Headers } from './journeys';
import {
  classify,
  dueAt,
  dueBy,
  openLoopAgent,
  plannedCount,
  runOpenLoop,
  TIMEOUT,
  window,
  type OpenLoopRequest,
  type Sample,
} from './open-loop';

describe('classify', () => {
  it('counts 2xx as goodput, 429 and 503 as shed, any other status as bad', () => {
    expect([200, 201, 204].map((status) => classify({ status }).outcome)).toEqual([
      'ok',
      'ok',
      'ok',
    ]);
    expect(classify({ status: 429 })).toEqual({ key: '429', outcome: 'shed' });
    expect(classify({ status: 503 })).toEqual({ key: '503', outcome: 'shed' });
    for (const status of [400, 404, 500, 502, 504]) {
      expect(classify({ status })).toEqual({ key: String(status), outcome: 'bad' });
    }
  });

  it('counts the client giving up as a timeout and socket errors by their code', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
    expect(classify({ error: abort })).toEqual({ key: TIMEOUT, outcome: 'bad' });
    const reset = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    expect(classify({ error: reset })).toEqual({ key: 'ECONNRESET', outcome: 'bad' });
    expect(classify({ error: 'odd' })).toEqual({ key: 'error', outcome: 'bad' });
  });
});

describe('the open-loop schedule', () => {
  it('puts request i at i/rate seconds', () => {
    expect(dueAt(0, 100)).toBe(0);
    expect(dueAt(25, 100)).toBe(250);
    expect(dueAt(3, 7)).toBeCloseTo(428.571, 3);
  });

  it('has exactly i+1 requests due at the moment request i is due, for awkward rates too', () => {
    for (const rate of [1, 3, 7, 25, 33.3, 150, 999, 2500]) {
      for (let i = 0; i < 2000; i += 37) {
        expect(dueBy(dueAt(i, rate), rate, Infinity)).toBe(i + 1);
        expect(dueBy(dueAt(i + 1, rate) - 1e-3, rate, Infinity)).toBe(i + 1);
      }
    }
  });

  it('has nothing due before the start and never more than the run sends', () => {
    expect(dueBy(-1, 100, 50)).toBe(0);
    expect(dueBy(0, 100, 50)).toBe(1);
    expect(dueBy(10_000, 100, 50)).toBe(50);
    expect(plannedCount(25, 3000)).toBe(75);
    expect(plannedCount(1, 100)).toBe(1);
  });
});

describe(runOpenLoop.name, () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders; body: string }> =
    [];
  let stallFirstMs = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        if (stallFirstMs > 0) {
          // blocks the one event loop the generator shares: the generator falls behind
          const until = Date.now() + stallFirstMs;
          stallFirstMs = 0;
          while (Date.now() < until) {
            // spin
          }
        }
        const url = new URL(req.url ?? '/', 'http://x');
        const status = Number(url.searchParams.get('status') ?? 200);
        const delay = Number(url.searchParams.get('delay') ?? 0);
        if (url.pathname === '/hang') {
          return;
        }
        setTimeout(() => res.writeHead(status).end('{}'), delay);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    seen.length = 0;
  });

  const get = (path: string, tag = 't'): (() => OpenLoopRequest) => {
    return () => ({ method: 'GET', path, headers: {}, tag });
  };

  it('sends on schedule without waiting for answers, and times from the scheduled send', async () => {
    const agent = openLoopAgent();
    const run = await runOpenLoop({
      base,
      rate: 100,
      durationMs: 300,
      next: get('/?delay=80'),
      agent,
      timeoutMs: 5_000,
    });
    agent.destroy();
    expect(run.samples).toHaveLength(30);
    const scheduled = run.samples.map((s) => s.scheduledMs).sort((a, b) => a - b);
    expect(scheduled).toEqual(Array.from({ length: 30 }, (_, i) => i * 10));
    // a closed loop of one would take 30 × 80 ms; the open loop keeps ~8 in flight
    expect(run.elapsedMs).toBeLessThan(1_500);
    expect(run.peakInFlight).toBeGreaterThanOrEqual(5);
    for (const s of run.samples) {
      expect(s.latencyMs).toBeGreaterThanOrEqual(80 - 1);
      expect(s.outcome).toBe('ok');
    }
  });

  it('charges time behind schedule to latency and reports it as send lag', async () => {
    stallFirstMs = 150;
    const agent = openLoopAgent();
    const run = await runOpenLoop({
      base,
      rate: 200,
      durationMs: 300,
      next: get('/'),
      agent,
      timeoutMs: 5_000,
    });
    agent.destroy();
    const late = run.samples.filter((s) => s.lagMs > 50);
    expect(late.length).toBeGreaterThan(5);
    for (const s of run.samples) {
      expect(s.latencyMs).toBeGreaterThanOrEqual(s.lagMs);
    }
    const w = window(run.samples, 0, 300);
    expect(w.lagMax).toBeGreaterThan(50);
  });

  it('tallies shed, bad and timed-out answers by key', async () => {
    const paths = ['/?status=200', '/?status=429', '/?status=503', '/?status=502', '/hang'];
    let i = 0;
    const agent = openLoopAgent();
    const run = await runOpenLoop({
      base,
      rate: 50,
      durationMs: 200,
      next: () => ({ method: 'GET', path: paths[i++ % paths.length], headers: {}, tag: 't' }),
      agent,
      timeoutMs: 300,
    });
    agent.destroy();
    const t = window(run.samples, 0, 200).all;
    expect(t.byKey).toEqual({ '200': 2, '429': 2, '503': 2, '502': 2, [TIMEOUT]: 2 });
    expect([t.ok, t.shed, t.bad]).toEqual([2, 4, 4]);
    const timedOut = run.samples.filter((s) => s.key === TIMEOUT);
    timedOut.forEach((s) => expect(s.latencyMs).toBeGreaterThanOrEqual(300 - 1));
  });

  it('sends the k6 headers, Content-Type on bodiless writes included', async () => {
    const specs: OpenLoopRequest[] = [
      { method: 'PUT', path: '/like', headers: k6Headers('tok'), tag: 'like' },
      { method: 'DELETE', path: '/like', headers: k6Headers('tok'), tag: 'unlike' },
      {
        method: 'POST',
        path: '/posts',
        body: '{"text":"hi"}',
        headers: k6Headers('tok'),
        tag: 'p',
      },
    ];
    let i = 0;
    const agent = openLoopAgent();
    await runOpenLoop({
      base,
      rate: 100,
      durationMs: 30,
      next: () => specs[i++],
      agent,
      timeoutMs: 2_000,
    });
    agent.destroy();
    const by = (m: string): IncomingHttpHeaders => seen.find((r) => r.method === m)?.headers ?? {};
    for (const m of ['PUT', 'DELETE', 'POST']) {
      expect(by(m)['content-type']).toBe('application/json');
      expect(by(m).authorization).toBe('Bearer tok');
      expect(by(m)['transfer-encoding']).toBeUndefined();
    }
    expect(by('PUT')['content-length']).toBe('0');
    expect(by('POST')['content-length']).toBe('13');
    expect(seen.find((r) => r.method === 'POST')?.body).toBe('{"text":"hi"}');
  });
});

describe(window.name, () => {
  const sample = (scheduledMs: number, tag: string, key: string, latencyMs: number): Sample => ({
    tag,
    scheduledMs,
    lagMs: 0,
    latencyMs,
    ...classify({ status: Number(key) }),
  });

  it('leaves out the warm-up and tallies each tag on its own', () => {
    const samples = [
      sample(0, 'feed', '503', 900),
      sample(100, 'feed', '200', 10),
      sample(200, 'feed', '200', 30),
      sample(300, 'like', '429', 5),
      sample(1000, 'feed', '200', 1),
    ];
    const w = window(samples, 100, 1000);
    expect(w.seconds).toBeCloseTo(0.9);
    expect(w.all.count).toBe(3);
    expect(w.byTag.feed).toMatchObject({ count: 2, ok: 2, p50: 10, max: 30 });
    expect(w.byTag.like).toMatchObject({ count: 1, shed: 1, byKey: { '429': 1 } });
  });
});
