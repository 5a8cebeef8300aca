import type { FastifyReply } from 'fastify';
import {
  FailFast,
  RateLimitEnforcer,
  RateLimitError,
  RateLimitErrorCode,
} from './rate-limit.guard';
import type { RateLimitDecision, SlidingWindowLimiter } from './sliding-window';

/** A limiter whose Redis is down, or that answers a fixed decision. */
const limiter = (answer: RateLimitDecision | Error): SlidingWindowLimiter =>
  ({
    consume: () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)),
  }) as unknown as SlidingWindowLimiter;

const reply = (): FastifyReply & { headers: Record<string, string> } => {
  const headers: Record<string, string> = {};
  return {
    headers,
    header(name: string, value: string) {
      headers[name] = value;
      return this;
    },
  } as unknown as FastifyReply & { headers: Record<string, string> };
};

const rule = { limit: 10, windowSeconds: 60 };
const down = new Error('connect ECONNREFUSED');

describe(RateLimitEnforcer.name, () => {
  it('fails closed when Redis is down and the policy says so (sign-up): 503 with Retry-After', async () => {
    const sut = new RateLimitEnforcer(limiter(down));
    const refusal = sut.enforce(reply(), 'signup:ip:1.2.3.4', rule, false, 'signup');
    await expect(refusal).rejects.toBeInstanceOf(RateLimitError);
    await refusal.catch((error: RateLimitError) => {
      expect(error.code).toBe(RateLimitErrorCode.Unavailable);
      expect(error.kind).toBe('unavailable');
      expect(error.retryAfterSeconds).toBe(5);
    });
  });

  it('fails open when Redis is down and the policy says so (writes, route ceiling)', async () => {
    const r = reply();
    await expect(
      new RateLimitEnforcer(limiter(down)).enforce(r, 'writes:user:1', rule, true, 'writes'),
    ).resolves.toBeUndefined();
    expect(r.headers).toEqual({});
  });

  it('refuses over the limit with 429 and the RateLimit headers', async () => {
    const r = reply();
    const decision = { allowed: false, limit: 10, remaining: 0, resetSeconds: 42 };
    const refusal = new RateLimitEnforcer(limiter(decision)).enforce(r, 'k', rule, true, 'writes');
    await expect(refusal).rejects.toMatchObject({
      code: RateLimitErrorCode.Exceeded,
      kind: 'rate_limited',
      retryAfterSeconds: 42,
    });
    expect(r.headers).toEqual({
      'RateLimit-Limit': '10',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '42',
    });
  });
});

describe(FailFast.name, () => {
  it('opens after three failures in a row, for the pause only', () => {
    let now = 0;
    const sut = new FailFast(3, 1_000, () => now);
    sut.failed();
    sut.failed();
    sut.succeeded(); // a success in between resets the count
    sut.failed();
    sut.failed();
    expect(sut.open).toBe(false);
    sut.failed();
    expect(sut.open).toBe(true);
    now = 999;
    expect(sut.open).toBe(true);
    now = 1_000;
    expect(sut.open).toBe(false);
  });

  it('lets the enforcer skip a failing Redis instead of waiting on every check', async () => {
    let calls = 0;
    const stalled = {
      consume: () => {
        calls++;
        return Promise.reject(new Error('Command timed out'));
      },
    } as unknown as SlidingWindowLimiter;
    const sut = new RateLimitEnforcer(stalled);
    for (let i = 0; i < 10; i++) {
      await sut.enforce(reply(), 'writes:user:1', rule, true, 'writes');
    }
    expect(calls).toBe(3);
  });
});
