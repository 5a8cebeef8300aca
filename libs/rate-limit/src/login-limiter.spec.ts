import type { RateLimitConfig } from '@murmur/config';
import { LoginLimiter } from './login-limiter';
import type { LoginAttempt, LoginThrottle } from './login-throttle';
import { RateLimitError, RateLimitErrorCode } from './rate-limit.guard';

const config = {
  RATE_LIMITS_ENABLED: true,
  RATE_LIMIT_LOGIN_PER_IP: { limit: 100, windowSeconds: 300 },
} as RateLimitConfig;

const throttle = (answer: LoginAttempt | Error): LoginThrottle =>
  ({
    begin: () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)),
    succeeded: () => Promise.reject(new Error('connection reset')),
  }) as unknown as LoginThrottle;

describe(LoginLimiter.name, () => {
  it('fails closed when Redis cannot answer: 503 rate_limit_unavailable with Retry-After', async () => {
    const refusal = new LoginLimiter(throttle(new Error('ECONNREFUSED')), config).admit('a', 'ip');
    await expect(refusal).rejects.toBeInstanceOf(RateLimitError);
    await expect(refusal).rejects.toMatchObject({
      code: RateLimitErrorCode.Unavailable,
      kind: 'unavailable',
      retryAfterSeconds: 5,
    });
  });

  it('refuses an account in its backoff with 429 login_backoff and its wait', async () => {
    const sut = new LoginLimiter(
      throttle({ admitted: false, by: 'account', retryAfterSeconds: 8 }),
      config,
    );
    await expect(sut.admit('a', 'ip')).rejects.toMatchObject({
      code: RateLimitErrorCode.LoginBackoff,
      kind: 'rate_limited',
      retryAfterSeconds: 8,
    });
  });

  it('refuses an address over its failures with 429 rate_limited', async () => {
    const sut = new LoginLimiter(
      throttle({ admitted: false, by: 'address', retryAfterSeconds: 30 }),
      config,
    );
    await expect(sut.admit('a', 'ip')).rejects.toMatchObject({
      code: RateLimitErrorCode.Exceeded,
      retryAfterSeconds: 30,
    });
  });

  it('asks nothing when rate limits are off, and a failed clear does not fail the log-in', async () => {
    const off = new LoginLimiter(throttle(new Error('never asked')), {
      ...config,
      RATE_LIMITS_ENABLED: false,
    });
    await expect(off.admit('a', 'ip')).resolves.toBeUndefined();
    const ticket = { accountKey: 'k', addressKey: 'i', member: 'm', failuresBefore: 0 };
    await expect(
      new LoginLimiter(throttle(new Error('x')), config).succeeded(ticket),
    ).resolves.toBeUndefined();
  });
});
