import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConsistencyContext } from '@murmur/database';
import { DomainError, type ErrorKind } from '@murmur/errors';
import type { FastifyRequest } from 'fastify';
import { SESSION_TOKEN_PATTERN, type Session, SessionStore } from './session-store';

export enum AuthErrorCode {
  MissingToken = 'missing_token',
  InvalidToken = 'invalid_token',
}

export class AuthError extends DomainError<AuthErrorCode> {
  readonly kind: ErrorKind = 'unauthorized';
}

/** The session store (the data Redis) cannot answer: 503, never a 500 and never "let in". */
export class SessionStoreUnavailable extends DomainError<'sessions_unavailable'> {
  readonly kind: ErrorKind = 'unavailable';

  constructor() {
    super('sessions_unavailable', 'Sessions cannot be checked right now; try again shortly.');
  }
}

export interface AuthenticatedRequest extends FastifyRequest {
  session?: Session;
}

export const SESSION_COOKIE = 'murmur_session';

/** Requests that change nothing: their session may come from the process's session cache. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The token of a request: `Authorization: Bearer …` or the session cookie. */
export function extractToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const match = /^Bearer ([^\s]{1,256})$/.exec(header);
    if (!match) {
      throw new AuthError(
        AuthErrorCode.InvalidToken,
        'The Authorization header must be "Bearer <token>".',
      );
    }
    return match[1];
  }
  const cookie = request.headers.cookie;
  if (typeof cookie === 'string' && cookie.length <= 4096) {
    const m = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]{1,256})`).exec(cookie);
    return m?.[1];
  }
  return undefined;
}

@Injectable()
export class AuthGuard implements CanActivate {
  protected readonly optional: boolean = false;

  constructor(@Inject(SessionStore) private readonly sessions: SessionStore) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = extractToken(request);
    if (token === undefined) {
      if (this.optional) {
        return true;
      }
      throw new AuthError(AuthErrorCode.MissingToken, 'This call needs a session token.');
    }
    if (!SESSION_TOKEN_PATTERN.test(token)) {
      throw new AuthError(AuthErrorCode.InvalidToken, 'The session token is not valid.');
    }
    let session: Session | undefined;
    try {
      session = await this.sessions.touch(token, { fromCache: SAFE_METHODS.has(request.method) });
    } catch {
      throw new SessionStoreUnavailable();
    }
    if (!session) {
      throw new AuthError(AuthErrorCode.InvalidToken, 'The session has expired or was revoked.');
    }
    request.session = session;
    const state = ConsistencyContext.current();
    if (state) {
      Object.assign(state.minLsn, session.lsn);
      state.lastWriteAt = session.lastWriteAt;
      state.onWrite = (cluster, lsn) => this.sessions.rememberLsn(session.id, cluster, lsn);
    }
    return true;
  }
}

/** For public reads: anonymous callers pass; a caller with a token gets their session (and read-your-writes). */
@Injectable()
export class OptionalAuthGuard extends AuthGuard {
  protected override readonly optional = true;
}
