import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SessionResolver } from '@murmur/auth';
import type { RateLimitConfig } from '@murmur/config';
import { DomainError, type ErrorKind } from '@murmur/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { rateLimitDecisionsTotal } from './rate-limit-metrics';
import { type RateLimitDecision, type RateLimitRule, SlidingWindowLimiter } from './sliding-window';

export type RateLimitPolicy = 'signup' | 'writes';

interface PolicySpec {
  by: 'ip' | 'user';
  /**
   * What to do when Redis cannot answer. Sign-up fails closed, as log-in does (./login-limiter.ts):
   * abuse protection must not vanish with Redis. Writes fail open:
   * a Redis outage should not stop users posting when Postgres is fine.
   */
  failOpen: boolean;
  rule: (c: RateLimitConfig) => RateLimitRule;
}

const POLICIES: Record<RateLimitPolicy, PolicySpec> = {
  signup: { by: 'ip', failOpen: false, rule: (c) => c.RATE_LIMIT_SIGNUP_PER_IP },
  writes: { by: 'user', failOpen: true, rule: (c) => c.RATE_LIMIT_WRITES_PER_USER },
};

export enum RateLimitErrorCode {
  Exceeded = 'rate_limited',
  Unavailable = 'rate_limit_unavailable',
  /** too many failed log-ins for one account: it waits (./login-throttle.ts) */
  LoginBackoff = 'login_backoff',
}

export class RateLimitError extends DomainError<RateLimitErrorCode> {
  get kind(): ErrorKind {
    return this.code === RateLimitErrorCode.Unavailable ? 'unavailable' : 'rate_limited';
  }
}

const POLICY_KEY = 'murmur:rate-limit-policy';

/** Limit a route by a policy from config (use after AuthGuard for per-user policies). */
export const RateLimit = (policy: RateLimitPolicy): MethodDecorator & ClassDecorator =>
  SetMetadata(POLICY_KEY, policy);

export const RATE_LIMIT_CONFIG = Symbol('RATE_LIMIT_CONFIG');
/** The service whose callers are counted (each service's capacity is its own). */
export const RATE_LIMIT_SERVICE = Symbol('RATE_LIMIT_SERVICE');

/**
 * After `failures` failed checks in a row, skip Redis for `openMs`: a stalled Redis then costs a
 * request nothing (fail open or closed at once) instead of a command timeout on every check.
 * After the pause the next check tries Redis again.
 */
export class FailFast {
  private inARow = 0;
  private openUntil = 0;

  constructor(
    private readonly failures = 3,
    private readonly openMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  get open(): boolean {
    return this.now() < this.openUntil;
  }

  succeeded(): void {
    this.inARow = 0;
  }

  failed(): void {
    this.inARow++;
    if (this.inARow >= this.failures) {
      this.openUntil = this.now() + this.openMs;
      this.inARow = 0;
    }
  }
}

/** Checks a key against a rule, applies the Redis-down policy, and sets the RateLimit-* headers. */
@Injectable()
export class RateLimitEnforcer {
  private readonly logger = new Logger(RateLimitEnforcer.name);
  private readonly failFast = new FailFast();

  constructor(@Inject(SlidingWindowLimiter) private readonly limiter: SlidingWindowLimiter) {}

  /** The limiter's decision, or why there is none (Redis failed, or is being skipped). */
  private async check(key: string, rule: RateLimitRule): Promise<RateLimitDecision | string> {
    if (this.failFast.open) {
      return 'Redis failed repeatedly; not asked for a moment';
    }
    try {
      const decision = await this.limiter.consume(key, rule);
      this.failFast.succeeded();
      return decision;
    } catch (error) {
      this.failFast.failed();
      return (error as Error).message;
    }
  }

  async enforce(
    reply: FastifyReply,
    key: string,
    rule: RateLimitRule,
    failOpen: boolean,
    policy: string,
  ): Promise<void> {
    const decision = await this.check(key, rule);
    if (typeof decision === 'string') {
      rateLimitDecisionsTotal.inc({ policy, outcome: failOpen ? 'failed_open' : 'failed_closed' });
      if (failOpen) {
        return;
      }
      this.logger.warn(`rate limiter unavailable (${decision}); refusing ${policy}`);
      throw new RateLimitError(
        RateLimitErrorCode.Unavailable,
        'This action is unavailable right now; try again shortly.',
        5,
      );
    }
    rateLimitDecisionsTotal.inc({ policy, outcome: decision.allowed ? 'allowed' : 'refused' });
    // The later (route-specific) limit overwrites the caller limit's headers: it is the one a
    // client meets.
    void reply.header('RateLimit-Limit', String(decision.limit));
    void reply.header('RateLimit-Remaining', String(decision.remaining));
    void reply.header('RateLimit-Reset', String(decision.resetSeconds));
    if (!decision.allowed) {
      throw new RateLimitError(
        RateLimitErrorCode.Exceeded,
        `Too many requests: the limit is ${rule.limit} per ${rule.windowSeconds} s.`,
        decision.resetSeconds,
      );
    }
  }
}

type HttpRequest = FastifyRequest & { session?: { userId: string } };

/**
 * Every caller's share of a service: all requests of one user (a valid session) or, without
 * one, of one client address (no token, or a token that will be refused), over all routes of the
 * service, in one sliding window each (the session looked up here is the one the route's
 * AuthGuard uses: `SessionResolver`, once per request). One client cannot exhaust what others
 * need: an anonymous flood of requests that end in 401 fills its own address's window, never a
 * user's. Overload
 * of the service as a whole is the load shedder's (503 with Retry-After), which counts only the
 * work it admits. Registered globally, before the route's own guards; fails open (Redis down
 * must not stop reads); probes and scrapes are exempt.
 */
@Injectable()
export class CallerLimitGuard implements CanActivate {
  constructor(
    @Inject(RateLimitEnforcer) private readonly enforcer: RateLimitEnforcer,
    @Inject(RATE_LIMIT_CONFIG) private readonly config: RateLimitConfig,
    @Inject(SessionResolver) private readonly sessions: SessionResolver,
    @Inject(RATE_LIMIT_SERVICE) private readonly service: string,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.config.RATE_LIMITS_ENABLED || context.getType() !== 'http') {
      return true;
    }
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const route = request.routeOptions.url ?? 'unmatched';
    if (route.startsWith('/health') || route === '/metrics') {
      return true;
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const { session } = await this.sessions.lookUp(request);
    const [key, rule, policy] = session
      ? [`user:${session.userId}`, this.config.RATE_LIMIT_PER_USER, 'per_user']
      : [`ip:${request.ip}`, this.config.RATE_LIMIT_PER_ADDRESS, 'per_address'];
    await this.enforcer.enforce(reply, `caller:${this.service}:${key}`, rule, true, policy);
    return true;
  }
}

/** A route's own policy (per IP or per user), declared with @RateLimit; put it after AuthGuard. */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    @Inject(RateLimitEnforcer) private readonly enforcer: RateLimitEnforcer,
    @Inject(RATE_LIMIT_CONFIG) private readonly config: RateLimitConfig,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.reflector.getAllAndOverride<RateLimitPolicy | undefined>(POLICY_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!policy || !this.config.RATE_LIMITS_ENABLED) {
      return true;
    }
    const spec = POLICIES[policy];
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const subject = spec.by === 'ip' ? request.ip : request.session?.userId;
    if (subject === undefined) {
      throw new Error(
        `rate limit policy ${policy} needs an authenticated session (put AuthGuard first)`,
      );
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    await this.enforcer.enforce(
      reply,
      `${policy}:${spec.by}:${subject}`,
      spec.rule(this.config),
      spec.failOpen,
      policy,
    );
    return true;
  }
}
