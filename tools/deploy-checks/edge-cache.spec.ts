import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { BROTLI_MODULE, localCertificate, type EdgeRateLimits } from '@murmur/stack';
import { freePort } from '@murmur/testing';
import { describeWithNginx, type StubHandler, withEdge, type EdgeStub } from './edge.spec-helper';
import { describeWithTool } from './with-tool.spec-helper';

/**
 * The edge cache (EDGE_CACHE=on, infra/nginx/conf.d/edge-cache-on.conf) and compression, on a real
 * NGINX with the generated config in front of a stub service that answers with the headers the
 * real services send (libs/http/src/http-caching.ts): `public, max-age` for anonymous public
 * reads, `private, no-cache` for a feed, an ETag, 304 on a matching If-None-Match.
 */
const noLimits: EdgeRateLimits = { api: false, auth: false };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Upstream {
  /** requests the stub served, by URL */
  seen: string[];
  /** If-None-Match headers it was sent */
  conditional: string[];
  handler: StubHandler;
}

/** A stub service: `/api/posts/:id?maxAge=s&swr=s&delay=ms&size=bytes`, `/api/feed` (private). */
function upstream(): Upstream {
  const u: Upstream = { seen: [], conditional: [], handler: () => undefined };
  u.handler = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://stub');
    u.seen.push(url.pathname + url.search);
    const inm = req.headers['if-none-match'];
    if (typeof inm === 'string') {
      u.conditional.push(inm);
    }
    const maxAge = url.searchParams.get('maxAge') ?? '5';
    const swr = url.searchParams.get('swr') ?? '30';
    const delay = Number(url.searchParams.get('delay') ?? '0');
    const size = Number(url.searchParams.get('size') ?? '0');
    const body = JSON.stringify({ path: url.pathname, pad: 'p'.repeat(size) });
    const etag = `"${url.pathname.replaceAll('/', '-')}"`;
    const cacheControl = url.pathname.startsWith('/api/feed')
      ? 'private, no-cache'
      : `public, max-age=${maxAge}, stale-while-revalidate=${swr}`;
    setTimeout(() => {
      const headers = {
        'content-type': 'application/json',
        'cache-control': cacheControl,
        vary: 'Authorization, Cookie',
        'content-length': String(Buffer.byteLength(body)),
        'ratelimit-limit': '100',
        'ratelimit-remaining': String(100 - u.seen.length),
        etag,
      };
      if (inm === etag) {
        res.writeHead(304, { ...headers, 'content-length': '0' }).end();
        return;
      }
      res.writeHead(200, headers).end(body);
    }, delay);
  };
  return u;
}

const cached = (u: Upstream, more: Partial<EdgeStub> = {}): EdgeStub => ({
  handler: (req, res, i) => u.handler(req, res, i),
  edge: { edgeCache: 'on', ...more.edge },
});

const status = (r: Response): string | null => r.headers.get('x-cache-status');

describeWithNginx('the edge cache (EDGE_CACHE=on, local NGINX)', () => {
  it('answers a repeated anonymous public read from the cache: MISS, then HIT without reaching the service', async () => {
    const u = upstream();
    await withEdge(
      noLimits,
      async ({ base, accessLog }) => {
        const first = await fetch(`${base}/api/posts/1`);
        const second = await fetch(`${base}/api/posts/1`);
        expect([first.status, second.status]).toEqual([200, 200]);
        expect([status(first), status(second)]).toEqual(['MISS', 'HIT']);
        expect(await second.json()).toEqual(await first.json());
        // the first caller's rate-limit budget is not replayed to the next one
        expect(first.headers.get('ratelimit-remaining')).toBe('99');
        expect(second.headers.get('ratelimit-remaining')).toBeNull();
        expect(second.headers.get('ratelimit-limit')).toBeNull();
        expect(u.seen).toEqual(['/api/posts/1']);
        // the access log says it too
        expect(accessLog().map((l) => l.cache)).toEqual(['MISS', 'HIT']);
      },
      cached(u),
    );
  });

  it('never answers, nor stores, a request with credentials; never stores a private answer', async () => {
    const u = upstream();
    await withEdge(
      noLimits,
      async ({ base }) => {
        await fetch(`${base}/api/posts/2`); // stored for anonymous callers
        const withToken = await fetch(`${base}/api/posts/2`, {
          headers: { authorization: 'Bearer abc' },
        });
        const withCookie = await fetch(`${base}/api/posts/3`, {
          headers: { cookie: 'murmur_session=abc' },
        });
        // the production name (COOKIE_SECURE), which `$cookie_…` cannot name
        const withHostCookie = await fetch(`${base}/api/posts/3`, {
          headers: { cookie: 'theme=dark; __Host-murmur_session=abc' },
        });
        expect([status(withToken), status(withCookie), status(withHostCookie)]).toEqual([
          'BYPASS',
          'BYPASS',
          'BYPASS',
        ]);
        // a live answer keeps the service's rate-limit headers
        expect(withToken.headers.get('ratelimit-remaining')).toBe('98');
        // the cookie caller's answer (public as it is) was not stored for anonymous callers
        expect(status(await fetch(`${base}/api/posts/3`))).toBe('MISS');
        const feeds = [await fetch(`${base}/api/feed`), await fetch(`${base}/api/feed`)];
        expect(feeds.map(status)).toEqual(['MISS', 'MISS']);
        expect(u.seen).toEqual([
          '/api/posts/2',
          '/api/posts/2',
          '/api/posts/3',
          '/api/posts/3',
          '/api/posts/3',
          '/api/feed',
          '/api/feed',
        ]);
      },
      cached(u),
    );
  });

  it('collapses 100 concurrent misses for one key into 1 request to the service (proxy_cache_lock)', async () => {
    const u = upstream();
    await withEdge(
      noLimits,
      async ({ base }) => {
        const answers = await Promise.all(
          Array.from({ length: 100 }, () => fetch(`${base}/api/posts/4?delay=300`)),
        );
        expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
        const bodies = new Set(await Promise.all(answers.map((a) => a.text())));
        expect(bodies.size).toBe(1);
        expect(u.seen).toEqual(['/api/posts/4?delay=300']);
      },
      cached(u),
    );
  });

  it('serves the stored answer, stale, while every server of the pool is down', async () => {
    const u = upstream();
    await withEdge(
      noLimits,
      async ({ base, stopServer }) => {
        // No stale-while-revalidate from the service: only proxy_cache_use_stale error serves it.
        const fresh = await fetch(`${base}/api/posts/5?maxAge=1&swr=0`);
        expect(status(fresh)).toBe('MISS');
        const body = await fresh.text();
        await stopServer(0);
        await sleep(2_100); // past max-age (NGINX counts whole seconds)
        const stale = await fetch(`${base}/api/posts/5?maxAge=1&swr=0`);
        expect(stale.status).toBe(200);
        expect(status(stale)).toBe('STALE');
        expect(await stale.text()).toBe(body);
        // what the edge never stored it cannot serve: a problem+json error
        const never = await fetch(`${base}/api/posts/6`);
        expect(never.status).toBeGreaterThanOrEqual(502);
        expect(never.headers.get('content-type')).toBe('application/problem+json');
      },
      cached(u),
    );
  });

  it('answers stale at once after max-age and refreshes in the background, revalidating with the ETag (304)', async () => {
    const u = upstream();
    await withEdge(
      noLimits,
      async ({ base }) => {
        await fetch(`${base}/api/posts/7?maxAge=1&delay=400`);
        await sleep(2_100); // past max-age (NGINX counts whole seconds)
        const started = Date.now();
        const served = await fetch(`${base}/api/posts/7?maxAge=1&delay=400`);
        // within stale-while-revalidate: not held for the service's 400 ms
        expect(status(served)).toBe('STALE');
        expect(Date.now() - started).toBeLessThan(300);
        await sleep(700);
        // the background refresh asked with the stored ETag and got a 304
        expect(u.conditional).toEqual(['"-api-posts-7"']);
        expect(status(await fetch(`${base}/api/posts/7?maxAge=1&delay=400`))).toBe('HIT');
        expect(u.seen).toHaveLength(2);
      },
      cached(u),
    );
  }, 10_000);

  it('is off by default: every request reaches the service and no X-Cache-Status is sent', async () => {
    const u = upstream();
    await withEdge(
      noLimits,
      async ({ base }) => {
        const answers = [await fetch(`${base}/api/posts/8`), await fetch(`${base}/api/posts/8`)];
        expect(answers.map(status)).toEqual([null, null]);
        expect(u.seen).toHaveLength(2);
      },
      { handler: (req, res, i) => u.handler(req, res, i) },
    );
  });
});

describeWithNginx('compression at the edge (local NGINX)', () => {
  const encodingOf = async (base: string, path: string, accept: string): Promise<string | null> => {
    const r = await fetch(`${base}${path}`, { headers: { 'accept-encoding': accept } });
    await r.arrayBuffer();
    return r.headers.get('content-encoding');
  };

  it('gzips JSON above 1 KiB for clients that accept it (the default), not below, and not when off', async () => {
    const u = upstream();
    const stub = { handler: u.handler };
    await withEdge(
      noLimits,
      async ({ base }) => {
        expect(await encodingOf(base, '/api/posts/1?size=4000', 'gzip')).toBe('gzip');
        expect(await encodingOf(base, '/api/posts/1?size=10', 'gzip')).toBeNull();
        expect(await encodingOf(base, '/api/posts/1?size=4000', 'identity')).toBeNull();
      },
      stub,
    );
    await withEdge(
      noLimits,
      async ({ base }) => {
        expect(await encodingOf(base, '/api/posts/1?size=4000', 'gzip')).toBeNull();
      },
      { ...stub, edge: { compression: 'off' } },
    );
  });

  describeWithTool(
    existsSync(BROTLI_MODULE)
      ? undefined
      : `the brotli module is not installed (${BROTLI_MODULE}: apt-get install libnginx-mod-http-brotli-filter)`,
  )('brotli', () => {
    it('answers br to clients that accept it, gzip to the others (EDGE_COMPRESSION=brotli)', async () => {
      const u = upstream();
      await withEdge(
        noLimits,
        async ({ base }) => {
          expect(await encodingOf(base, '/api/posts/1?size=4000', 'gzip, br')).toBe('br');
          expect(await encodingOf(base, '/api/posts/1?size=4000', 'gzip')).toBe('gzip');
        },
        { handler: u.handler, edge: { compression: 'brotli', modules: [BROTLI_MODULE] } },
      );
    });
  });
});

describeWithNginx('HTTPS with HTTP/2 at the edge (EDGE_TLS=on, local NGINX)', () => {
  it('answers over HTTP/2 on the TLS listener, many streams on one connection, with HSTS; and HTTP/1.1 on the plain one, without', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'murmur-tls-'));
    const cert = localCertificate(dir);
    const tlsPort = await freePort();
    const u = upstream();
    try {
      await withEdge(
        noLimits,
        async ({ base }) => {
          const session = connect(`https://localhost:${tlsPort}`, {
            ca: readFileSync(cert.certificate),
          });
          try {
            const get = (p: string): Promise<{ status: number; body: string; hsts?: string }> =>
              new Promise((resolve, reject) => {
                const stream = session.request({ ':path': p });
                let status = 0;
                let hsts: string | undefined;
                let body = '';
                stream.on('response', (h) => {
                  status = Number(h[':status']);
                  hsts = h['strict-transport-security'];
                });
                stream.on('data', (c: Buffer) => (body += c.toString()));
                stream.on('end', () => resolve({ status, body, hsts }));
                stream.on('error', reject);
              });
            const answers = await Promise.all(
              Array.from({ length: 20 }, (_, i) => get(`/api/posts/${i + 1}`)),
            );
            expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
            expect(JSON.parse(answers[4].body)).toMatchObject({ path: '/api/posts/5' });
            expect(session.alpnProtocol).toBe('h2');
            expect(answers.map((a) => a.hsts)).toEqual(
              answers.map(() => 'max-age=31536000; includeSubDomains'),
            );
          } finally {
            session.close();
          }
          const plain = await fetch(`${base}/api/posts/1`);
          expect(plain.status).toBe(200);
          expect(plain.headers.get('strict-transport-security')).toBeNull();
        },
        {
          handler: u.handler,
          edge: {
            tls: { listen: `127.0.0.1:${tlsPort}`, ...cert, http2: 'listen' },
          },
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
