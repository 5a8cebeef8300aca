import { Inject, Injectable } from '@nestjs/common';
import { type Session, SessionStore } from '@murmur/auth';
import { LoginLimiter } from '@murmur/rate-limit';
import { PasswordHasher } from '../users/password-hasher';
import { UsersRepository } from '../users/users.repository';
import { SessionError, SessionErrorCode } from './sessions.errors';

@Injectable()
export class SessionsService {
  constructor(
    @Inject(UsersRepository) private readonly users: UsersRepository,
    @Inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @Inject(SessionStore) private readonly sessions: SessionStore,
    @Inject(LoginLimiter) private readonly limiter: LoginLimiter,
  ) {}

  /**
   * A new session (and token) on every successful login. The attempt is admitted by the log-in
   * throttle first (429 while the account waits out its backoff, whatever the password), and
   * counts as a failure unless the password is right.
   */
  async login(
    username: string,
    password: string,
    address: string,
  ): Promise<{ token: string; userId: string; maxAgeSeconds: number }> {
    const ticket = await this.limiter.admit(username, address);
    const user = await this.users.findByUsernameForLogin(username);
    const ok = await this.hasher.verify(user?.password_hash, password);
    if (!user || !ok) {
      throw new SessionError(SessionErrorCode.BadCredentials, 'Wrong username or password.');
    }
    await this.limiter.succeeded(ticket);
    const created = await this.sessions.create(String(user.id), await this.users.walPosition());
    return { token: created.token, userId: String(user.id), maxAgeSeconds: created.maxAgeSeconds };
  }

  logout(session: Session): Promise<void> {
    return this.sessions.revoke(session.id, session.userId);
  }

  logoutEverywhere(session: Session): Promise<number> {
    return this.sessions.revokeAll(session.userId);
  }
}
