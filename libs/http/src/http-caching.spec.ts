import Fastify, { type FastifyInstance } from 'fastify';
import {
  cacheControlFor,
  entityTag,
  ifNoneMatchMatches,
  installHttpCaching,
  PRIVATE_READ,
  PUBLIC_READ,
} from './http-caching';

describe('HTTP caching', () => {
  describe(cacheControlFor.name, () => {
    it('lets anyone keep a public read for an anonymous caller, and only the caller otherwise', () => {
      expect(cacheControlFor(PUBLIC_READ, false)).toBe(
        'public, max-age=5, stale-while-revalidate=30',
      );
      // With credentials they may have just written it: revalidate every time.
      expect(cacheControlFor(PUBLIC_READ, true)).toBe('private, no-cache');
      expect(cacheControlFor(PRIVATE_READ, false)).toBe('private, no-cache');
      expect(cacheControlFor(PRIVATE_READ, true)).toBe('private, no-cache');
    });
  });

  describe(ifNoneMatchMatches.name, () => {
    const tag = entityTag('{"a":1}');
    it('compares weakly, over a list, and takes * for any', () => {
      expect(tag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      expect(ifNoneMatchMatches(tag, tag)).toBe(true);
      expect(ifNoneMatchMatches(`W/${tag}`, tag)).toBe(true);
      expect(ifNoneMatchMatches(`"other", ${tag}`, tag)).toBe(true);
      expect(ifNoneMatchMatches('*', tag)).toBe(true);
      expect(ifNoneMatchMatches('"other"', tag)).toBe(false);
      expect(ifNoneMatchMatches(undefined, tag)).toBe(false);
      expect(ifNoneMatchMatches(tag.slice(1, -1), tag)).toBe(false);
    });
    it('matches nothing for an oversized header or too many tags', () => {
      expect(ifNoneMatchMatches(`${'"x", '.repeat(64)}${tag}`, tag)).toBe(false);
      expect(ifNoneMatchMatches(`${tag}${' '.repeat(8200)}`, tag)).toBe(false);
    });
  });

  describe(installHttpCaching.name, () => {
    let app: FastifyInstance;
    let body = { n: 1 };
    beforeAll(async () => {
      app = Fastify();
      installHttpCaching(app);
      const cacheable = { 'cache-control': 'public, max-age=5' };
      app.get('/public', (_req, reply) => reply.headers(cacheable).send(body));
      app.get('/plain', () => ({ n: 1 }));
      app.get('/missing', (_req, reply) => reply.headers(cacheable).code(404).send({ code: 'x' }));
      app.post('/public', (_req, reply) => reply.headers(cacheable).send(body));
      await app.ready();
    });
    afterAll(() => app.close());

    it('tags a cacheable GET with a strong ETag of its bytes, and answers a match with 304 and no body', async () => {
      const first = await app.inject({ method: 'GET', url: '/public' });
      expect(first.statusCode).toBe(200);
      const etag = first.headers.etag as string;
      expect(etag).toBe(entityTag(first.body));
      const again = await app.inject({
        method: 'GET',
        url: '/public',
        headers: { 'if-none-match': etag },
      });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
      expect(again.headers.etag).toBe(etag);
      expect(again.headers['cache-control']).toBe('public, max-age=5');
      expect(again.headers['content-type']).toBeUndefined();
    });

    it('gives a changed answer a new ETag, so the old one no longer matches', async () => {
      const before = await app.inject({ method: 'GET', url: '/public' });
      body = { n: 2 };
      const after = await app.inject({
        method: 'GET',
        url: '/public',
        headers: { 'if-none-match': before.headers.etag as string },
      });
      expect(after.statusCode).toBe(200);
      expect(after.json()).toEqual({ n: 2 });
      expect(after.headers.etag).not.toBe(before.headers.etag);
    });

    it('marks everything else no-store and untagged: no policy, an error, a write', async () => {
      for (const [method, url] of [
        ['GET', '/plain'],
        ['GET', '/missing'],
        ['POST', '/public'],
      ] as const) {
        const res = await app.inject({ method, url, headers: { 'if-none-match': '*' } });
        expect({
          url,
          method,
          control: res.headers['cache-control'],
          etag: res.headers.etag,
        }).toEqual({
          url,
          method,
          control: 'no-store',
          etag: undefined,
        });
        expect(res.statusCode).not.toBe(304);
      }
    });
  });
});
