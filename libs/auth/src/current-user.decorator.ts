import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthenticatedRequest } from './auth.guard';
import type { Session } from './session-store';

/** The session of an authenticated request (use behind `AuthGuard`). */
export const CurrentSession = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Session => {
    const session = ctx.switchToHttp().getRequest<AuthenticatedRequest>().session;
    if (!session) {
      throw new Error('CurrentSession used on a route without AuthGuard');
    }
    return session;
  },
);

/** The session if the caller sent a valid token (use behind `OptionalAuthGuard`). */
export const OptionalSession = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Session | undefined =>
    ctx.switchToHttp().getRequest<AuthenticatedRequest>().session,
);
