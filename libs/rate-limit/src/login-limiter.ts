import { Inject, Injectable, Logger } from '@nestjs/common';
import type { RateLimitConfig } from '@murmur/config';
import { type LoginThrottle, type LoginTicket } from './login-throttle';
import { rateLimitDecisionsTotal } from './rate-limit-metrics';
import { RATE_LIMIT_CONFIG, RateLimitError, RateLimitErrorCode } from './rate-limit.guard';

export const LOGIN_THROTTLE = Symbol('LOGIN_THROTTLE');

/**
 * The log-in route's brute-force protection (./login-throttle.ts) as the route uses it: admit()
 * before the password check (429 with Retry-After when the account is in its backoff or the
 * address has too many failures; 503 when Redis cannot answer: it fails closed, so brute-force
 * protection does not vanish with Redis), succeeded() after a right password.
 */
@Injectable()
export class LoginLimiter {
  private readonly logger = new Logger(LoginLimiter.name);

  constructor(
    @Inject(LOGIN_THROTTLE) private readonly throttle: LoginThrottle,
    @Inject(RATE_LIMIT_CONFIG) private readonly config: RateLimitConfig,
  ) {}

  /** undefined when rate limits are off */
  async admit(username: string, address: string): Promise<LoginTicket | undefined> {
    if (!this.config.RATE_LIMITS_ENABLED) {
      return undefined;
    }
    let attempt;
    try {
      attempt = await this.throttle.begin(username, address);
    } catch (error) {
      rateLimitDecisionsTotal.inc({ policy: 'login', outcome: 'failed_closed' });
      this.logger.warn(`login throttle unavailable (${(error as Error).message}); refusing login`);
      throw new RateLimitError(
        RateLimitErrorCode.Unavailable,
        'This action is unavailable right now; try again shortly.',
        5,
      );
    }
    if (attempt.admitted) {
      rateLimitDecisionsTotal.inc({ policy: 'login', outcome: 'allowed' });
      return attempt.ticket;
    }
    rateLimitDecisionsTotal.inc({ policy: `login_${attempt.by}`, outcome: 'refused' });
    throw attempt.by === 'account'
      ? new RateLimitError(
          RateLimitErrorCode.LoginBackoff,
          `Too many failed log-ins for this account: try again in ${attempt.retryAfterSeconds} s.`,
          attempt.retryAfterSeconds,
        )
      : new RateLimitError(
          RateLimitErrorCode.Exceeded,
          `Too many failed log-ins from this address: the limit is ${this.config.RATE_LIMIT_LOGIN_PER_IP.limit} per ${this.config.RATE_LIMIT_LOGIN_PER_IP.windowSeconds} s.`,
          attempt.retryAfterSeconds,
        );
  }

  /**
   * The password was right: forget the account's failures. A failure here does not undo the
   * log-in (the session exists); the count then ages out with RATE_LIMIT_LOGIN_FORGET_SECONDS.
   */
  async succeeded(ticket: LoginTicket | undefined): Promise<void> {
    if (!ticket) {
      return;
    }
    await this.throttle.succeeded(ticket).catch((error: unknown) => {
      this.logger.warn(`could not clear log-in failures (${(error as Error).message})`);
    });
  }
}
