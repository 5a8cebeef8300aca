import { testTopology } from '@murmur/testing';
import { Redis } from 'ioredis';
import { SlidingWindowLimiter } from './sliding-window';

/** Two connections stand for two processes of a service sharing one limit in the real Redis. */
describe(`${SlidingWindowLimiter.name} (real Redis)`, () => {
  const port = testTopology().redis[0].port;
  const a = new Redis(port, '127.0.0.1');
  const b = new Redis(port, '127.0.0.1');
  afterAll(() => Promise.all([a.quit(), b.quit()]));

  it('admits exactly the limit of 1,000 concurrent attempts from two processes', async () => {
    const key = `it-login-${Date.now()}`;
    const limiters = [new SlidingWindowLimiter(a), new SlidingWindowLimiter(b)];
    const decisions = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        limiters[i % 2].consume(key, { limit: 37, windowSeconds: 60 }),
      ),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(37);
    const refused = decisions.filter((d) => !d.allowed);
    expect(
      refused.every((d) => d.remaining === 0 && d.resetSeconds >= 1 && d.resetSeconds <= 60),
    ).toBe(true);
  });

  it('admits again once the window has slid past the oldest attempts', async () => {
    const key = `it-slide-${Date.now()}`;
    const limiter = new SlidingWindowLimiter(a);
    const rule = { limit: 2, windowSeconds: 1 };
    expect((await limiter.consume(key, rule)).allowed).toBe(true);
    expect((await limiter.consume(key, rule)).allowed).toBe(true);
    expect((await limiter.consume(key, rule)).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 1_050));
    expect((await limiter.consume(key, rule)).allowed).toBe(true);
  });
});
