import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConsistencyContext } from '@murmur/database';
import type { FastifyRequest } from 'fastify';
import { AuthError, AuthErrorCode, SessionResolver } from './credentials';
import { type Session, SessionStore } from './session-store';

export interface AuthenticatedRequest extends FastifyRequest {
  session?: Session;
}

/**
 * A route that needs a session: the caller's token (bearer, or the session cookie on a
 * same-origin request) must name a live session, which the request then carries (and with it
 * the caller's read-your-writes context).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  protected readonly optional: boolean = false;

  constructor(
    @Inject(SessionResolver) private readonly resolver: SessionResolver,
    @Inject(SessionStore) private readonly sessions: SessionStore,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const { session, error } = await this.resolver.lookUp(request);
    if (error) {
      throw error;
    }
    if (!session) {
      if (this.optional) {
        return true;
      }
      throw new AuthError(AuthErrorCode.MissingToken, 'This call needs a session token.');
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
