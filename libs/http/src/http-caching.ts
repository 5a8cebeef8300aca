import { createHash } from 'node:crypto';
import {
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';

/**
 * HTTP caching (docs/patterns/http-caching.md): who may keep an answer, for how long, and how a
 * client that kept one asks whether it is still good.
 *
 * - `public`: the same for everyone (a profile, a post, an author's page, a board). Anonymous
 *   callers get `public, max-age, stale-while-revalidate`: a browser, a CDN or the edge may serve
 *   it for `maxAgeSeconds` and then while revalidating. A caller with credentials (a bearer token
 *   or a cookie) gets `private, no-cache` instead: they may have just changed it (read your own
 *   writes), so they revalidate every time, which an unchanged resource answers with a 304.
 * - `private`: one caller's view (a feed): `private, no-cache`, never in a shared cache.
 * - anything without a policy (personal data, writes, errors): `no-store`.
 */
export type HttpCachePolicy =
  | { audience: 'public'; maxAgeSeconds: number; staleWhileRevalidateSeconds: number }
  | { audience: 'private' };

export const HTTP_CACHE_POLICY = Symbol('HTTP_CACHE_POLICY');

/** Answers to public resources vary by credentials: a shared cache keeps one per audience. */
const VARY = 'Authorization, Cookie';

const hasCredentials = (req: FastifyRequest): boolean =>
  req.headers.authorization !== undefined || req.headers.cookie !== undefined;

/** The Cache-Control value a policy gives a request. */
export function cacheControlFor(policy: HttpCachePolicy, credentials: boolean): string {
  if (policy.audience === 'private' || credentials) {
    return 'private, no-cache';
  }
  return `public, max-age=${policy.maxAgeSeconds}, stale-while-revalidate=${policy.staleWhileRevalidateSeconds}`;
}

@Injectable()
export class HttpCacheInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const policy = this.reflector.get<HttpCachePolicy | undefined>(
      HTTP_CACHE_POLICY,
      context.getHandler(),
    );
    if (policy) {
      const http = context.switchToHttp();
      const req = http.getRequest<FastifyRequest>();
      const reply = http.getResponse<FastifyReply>();
      // Set before the handler runs; an error answer replaces it with no-store (`onSend` below).
      reply.header('cache-control', cacheControlFor(policy, hasCredentials(req)));
      reply.header('vary', VARY);
    }
    return next.handle();
  }
}

/** A GET route's caching policy (see HttpCachePolicy). */
export const HttpCache = (policy: HttpCachePolicy): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(HTTP_CACHE_POLICY, policy), UseInterceptors(HttpCacheInterceptor));

/** A strong entity tag of the bytes of an answer (RFC 9110 §8.8.3). */
export function entityTag(payload: string | Buffer): string {
  return `"${createHash('sha1').update(payload).digest('base64url')}"`;
}

/**
 * Does `If-None-Match` match `etag`? The weak comparison RFC 9110 §13.1.2 asks for: `W/` is
 * ignored on both sides; `*` matches any current representation. Bounded: a header longer than
 * 8 KiB or with more than 64 tags matches nothing (the client gets the full answer).
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined || header.length > 8192) {
    return false;
  }
  if (header.trim() === '*') {
    return true;
  }
  const opaque = etag.replace(/^W\//, '');
  const tags = header.split(',');
  return tags.length <= 64 && tags.some((t) => t.trim().replace(/^W\//, '') === opaque);
}

/**
 * The Fastify side, for every route: an answer with no Cache-Control gets `no-store`; a
 * successful GET or HEAD answer with a cacheable policy gets a strong ETag from its bytes, and a
 * request whose `If-None-Match` matches gets `304 Not Modified` with no body. The ETag is
 * computed from the serialised answer, so it changes exactly when the bytes do; the service's
 * work (from its caches) is still done, the bytes on the wire and the client's parse are saved.
 */
export function installHttpCaching(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (req, reply, payload, done) => {
    const control = reply.getHeader('cache-control');
    const cacheable =
      typeof control === 'string' &&
      !control.includes('no-store') &&
      reply.statusCode === 200 &&
      (req.method === 'GET' || req.method === 'HEAD');
    if (!cacheable) {
      // Errors and writes (and a policy's route that failed) are never stored.
      reply.header('cache-control', 'no-store');
      done(null, payload);
      return;
    }
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) {
      done(null, payload);
      return;
    }
    const etag = entityTag(payload);
    reply.header('etag', etag);
    const condition = req.headers['if-none-match'];
    if (ifNoneMatchMatches(Array.isArray(condition) ? condition.join(',') : condition, etag)) {
      reply.code(304);
      reply.removeHeader('content-type');
      reply.removeHeader('content-length');
      done(null, '');
      return;
    }
    done(null, payload);
  });
}

/**
 * Public reads (profiles, posts, author pages, boards): fresh for 5 s anywhere, then served
 * while revalidating for 30 s more. Short on purpose: a like count or a board moves every second,
 * and 5 s is what a micro-cache at the edge needs to absorb a hot key.
 */
export const PUBLIC_READ: HttpCachePolicy = {
  audience: 'public',
  maxAgeSeconds: 5,
  staleWhileRevalidateSeconds: 30,
};

/** One caller's view (a feed page): revalidated on every use, kept by that caller only. */
export const PRIVATE_READ: HttpCachePolicy = { audience: 'private' };
