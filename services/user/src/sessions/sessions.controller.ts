import {
  Body,
  Controller,
  Delete,
  HttpCode,
  Inject,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { AuthGuard, CurrentSession, type Session, sessionCookieName } from '@murmur/auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CreateSessionRequest } from './dto/create-session.request';
import { SessionsService } from './sessions.service';

export const COOKIE_SECURE = Symbol('COOKIE_SECURE');

@Controller('api/sessions')
export class SessionsController {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(COOKIE_SECURE) private readonly secureCookie: boolean,
  ) {}

  /**
   * Log in: the token in the body (bearer use) and in an HttpOnly cookie (browser use):
   * `__Host-murmur_session; Path=/; HttpOnly; SameSite=Lax; Secure` (the bare name without
   * `Secure` on plain-HTTP development). Lax keeps the session on a link from another site;
   * state-changing requests with the cookie must come from this site (`SessionResolver`).
   * Failed attempts are throttled per account and per client address (`LoginLimiter`).
   */
  @Post()
  @HttpCode(201)
  async create(
    @Body() body: CreateSessionRequest,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ token: string; userId: string }> {
    const { token, userId, maxAgeSeconds } = await this.sessions.login(
      body.username,
      body.password,
      request.ip,
    );
    void reply.header('Set-Cookie', this.cookie(token, maxAgeSeconds));
    void reply.header('Cache-Control', 'no-store');
    return { token, userId };
  }

  @Delete('current')
  @HttpCode(204)
  @UseGuards(AuthGuard)
  async logout(
    @CurrentSession() session: Session,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.sessions.logout(session);
    void reply.header('Set-Cookie', this.cookie('', 0));
  }

  /** Log out everywhere: revokes every session of the caller. */
  @Delete()
  @HttpCode(204)
  @UseGuards(AuthGuard)
  async logoutEverywhere(@CurrentSession() session: Session): Promise<void> {
    await this.sessions.logoutEverywhere(session);
  }

  private cookie(value: string, maxAgeSeconds: number): string {
    const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSeconds}`];
    if (this.secureCookie) {
      attributes.push('Secure');
    }
    return `${sessionCookieName(this.secureCookie)}=${value}; ${attributes.join('; ')}`;
  }
}
