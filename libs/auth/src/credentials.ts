import { Inject, Injectable } from '@nestjs/common';
import { DomainError, type ErrorKind } from '@murmur/errors';
import type { FastifyRequest } from 'fastify';
import { SESSION_TOKEN_PATTERN, type Session, SessionStore } from './session-store';

export enum AuthErrorCode {
  MissingToken = 'missing_token',
  InvalidToken = 'invalid_token',
  CrossSiteRequest = 'cross_site_request',
}

export class AuthError extends DomainError<AuthErrorCode> {
  get kind(): ErrorKind {
    return this.code === AuthErrorCode.CrossSiteRequest ? 'forbidden' : 'unauthorized';
  }
}

/** The session store (the data Redis) cannot answer: 503, never a 500 and never "let in". */
export class SessionStoreUnavailable extends DomainError<'sessions_unavailable'> {
  readonly kind: ErrorKind = 'unavailable';

  constructor() {
    super('sessions_unavailable', 'Sessions cannot be checked right now; try again shortly.');
  }
}

/**
 * The session cookie's name. With `Secure` it carries the `__Host-` prefix: a browser keeps such
 * a cookie only if it came over HTTPS with `Path=/` and no `Domain`, so a sibling subdomain (or a
 * network attacker on plain HTTP) cannot plant one of its own (session fixation, login CSRF).
 * Plain-HTTP local development cannot use the prefix and gets the bare name.
 */
export const sessionCookieName = (secure: boolean): string =>
  secure ? '__Host-murmur_session' : 'murmur_session';

export interface CredentialOptions {
  /** `sessionCookieName(COOKIE_SECURE)`: the only cookie name read */
  cookieName: string;
  /**
   * Origins (`https://app.example`) besides the request's own whose pages may send state-changing
   * requests with the session cookie (`CSRF_TRUSTED_ORIGINS`).
   */
  trustedOrigins: readonly string[];
}

export const CREDENTIAL_OPTIONS = Symbol('CREDENTIAL_OPTIONS');

/** Requests that change nothing: their session may come from the process's session cache. */
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The token of a request (`Authorization: Bearer …`, else the session cookie) and where it was. */
export function extractCredential(
  request: FastifyRequest,
  cookieName: string,
): { token: string; via: 'bearer' | 'cookie' } | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const match = /^Bearer ([^\s]{1,256})$/.exec(header);
    if (!match) {
      throw new AuthError(
        AuthErrorCode.InvalidToken,
        'The Authorization header must be "Bearer <token>".',
      );
    }
    return { token: match[1], via: 'bearer' };
  }
  const cookie = request.headers.cookie;
  if (typeof cookie === 'string' && cookie.length <= 4096) {
    for (const pair of cookie.split(';')) {
      const at = pair.indexOf('=');
      if (at > 0 && pair.slice(0, at).trim() === cookieName) {
        const value = pair.slice(at + 1).trim();
        return value.length > 0 && value.length <= 256
          ? { token: value, via: 'cookie' }
          : undefined;
      }
    }
  }
  return undefined;
}

/**
 * May a state-changing request that carries the session cookie be honoured (CSRF, OWASP's
 * "verifying origin with standard headers")? A browser sends `Sec-Fetch-Site` on every request
 * and `Origin` on every cross-origin one and on every POST, PUT, PATCH and DELETE; a page of
 * another site cannot forge either. Allowed: `Sec-Fetch-Site: same-origin` or `none` (typed by
 * the user), or an `Origin` equal to the request's own (`X-Forwarded-Proto` + `Host` as the edge
 * passed them) or a trusted one. A cookie request with neither header is refused: every browser
 * of the last years sends them, and a non-browser client should use a bearer token, which a
 * browser never attaches by itself.
 */
export function isSameOriginWrite(request: FastifyRequest, trusted: readonly string[]): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === 'same-origin' || site === 'none') {
    return true;
  }
  const origin = request.headers.origin;
  if (typeof origin !== 'string' || origin === 'null') {
    return false;
  }
  const forwarded = request.headers['x-forwarded-proto'];
  const proto = (typeof forwarded === 'string' ? forwarded.split(',')[0].trim() : '') || 'http';
  const host = request.headers.host;
  return (host !== undefined && origin === `${proto}://${host}`) || trusted.includes(origin);
}

/** What a request's credentials resolve to: its session, nothing (no token), or why not. */
export interface SessionLookup {
  token?: string;
  session?: Session;
  /** the answer the request gets if its route needs a session */
  error?: AuthError | SessionStoreUnavailable;
}

/**
 * The session of a request, looked up once however many guards ask (the per-caller rate limit
 * before the route's AuthGuard, then the guard): the first call asks the store, later calls get
 * the same answer. Never throws: an invalid or unknown token, a cross-site write with the cookie,
 * or a store that cannot answer is in `error`, and the caller decides (AuthGuard refuses, the
 * rate limit counts the client address instead of a user).
 */
@Injectable()
export class SessionResolver {
  private readonly lookups = new WeakMap<FastifyRequest, Promise<SessionLookup>>();

  constructor(
    @Inject(SessionStore) private readonly sessions: SessionStore,
    @Inject(CREDENTIAL_OPTIONS) private readonly options: CredentialOptions,
  ) {}

  lookUp(request: FastifyRequest): Promise<SessionLookup> {
    let lookup = this.lookups.get(request);
    if (!lookup) {
      lookup = this.resolve(request);
      this.lookups.set(request, lookup);
    }
    return lookup;
  }

  private async resolve(request: FastifyRequest): Promise<SessionLookup> {
    let credential: ReturnType<typeof extractCredential>;
    try {
      credential = extractCredential(request, this.options.cookieName);
    } catch (error) {
      return { error: error as AuthError };
    }
    if (credential === undefined) {
      return {};
    }
    const { token, via } = credential;
    const safe = SAFE_METHODS.has(request.method);
    if (via === 'cookie' && !safe && !isSameOriginWrite(request, this.options.trustedOrigins)) {
      return {
        token,
        error: new AuthError(
          AuthErrorCode.CrossSiteRequest,
          'A state-changing request with the session cookie must come from this site (Origin or Sec-Fetch-Site); other clients send the token as a bearer token.',
        ),
      };
    }
    if (!SESSION_TOKEN_PATTERN.test(token)) {
      return {
        token,
        error: new AuthError(AuthErrorCode.InvalidToken, 'The session token is not valid.'),
      };
    }
    let session: Session | undefined;
    try {
      session = await this.sessions.touch(token, { fromCache: safe });
    } catch {
      return { token, error: new SessionStoreUnavailable() };
    }
    return session
      ? { token, session }
      : {
          token,
          error: new AuthError(
            AuthErrorCode.InvalidToken,
            'The session has expired or was revoked.',
          ),
        };
  }
}
