import { randomBytes } from 'node:crypto';
import { testTopology } from '@murmur/testing';
import { Redis } from 'ioredis';
import { LoginThrottle, type LoginThrottleRules } from './login-throttle';

/** Two connections stand for two processes of the user service sharing the counts. */
describe(`${LoginThrottle.name} (real Redis)`, () => {
  const port = testTopology().redis[0].port;
  const a = new Redis(port, '127.0.0.1');
  const b = new Redis(port, '127.0.0.1');
  afterAll(() => Promise.all([a.quit(), b.quit()]));

  const rules: LoginThrottleRules = {
    failuresBeforeBackoff: 3,
    baseSeconds: 1,
    maxSeconds: 4,
    forgetSeconds: 60,
    perAddress: { limit: 1_000, windowSeconds: 60 },
  };
  const name = () => `it_${randomBytes(6).toString('hex')}`;
  const ip = () =>
    `198.51.100.${Math.floor(Math.random() * 250) + 1}-${randomBytes(3).toString('hex')}`;

  it('admits exactly the free attempts of a parallel burst on one account, from two processes', async () => {
    const throttles = [new LoginThrottle(a, rules), new LoginThrottle(b, rules)];
    const username = name();
    const attempts = await Promise.all(
      Array.from({ length: 200 }, (_, i) => throttles[i % 2].begin(username, ip())),
    );
    expect(attempts.filter((x) => x.admitted)).toHaveLength(3);
    const refused = attempts.filter((x) => !x.admitted);
    expect(refused.every((x) => !x.admitted && x.by === 'account')).toBe(true);
  });

  it('case-folds the username, doubles the wait up to the maximum, and a right password clears it', async () => {
    const throttle = new LoginThrottle(a, rules);
    const username = name();
    for (let i = 0; i < 3; i++) {
      expect((await throttle.begin(i % 2 ? username.toUpperCase() : username, ip())).admitted).toBe(
        true,
      );
    }
    const refused = await throttle.begin(username, ip());
    expect(refused).toEqual({ admitted: false, by: 'account', retryAfterSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1_050));
    const fourth = await throttle.begin(username, ip());
    expect(fourth.admitted).toBe(true);
    expect(await throttle.begin(username, ip())).toEqual({
      admitted: false,
      by: 'account',
      retryAfterSeconds: 2,
    });
    // the right password on the admitted attempt: the count starts again
    if (fourth.admitted) {
      await throttle.succeeded(fourth.ticket);
    }
    const again = await throttle.begin(username, ip());
    expect(again.admitted && again.ticket.failuresBefore).toBe(0);
  });

  it('counts failures per address over all usernames; a right one takes its count back', async () => {
    const throttle = new LoginThrottle(a, {
      ...rules,
      perAddress: { limit: 2, windowSeconds: 60 },
    });
    const address = ip();
    const first = await throttle.begin(name(), address);
    if (!first.admitted) {
      throw new Error('first attempt refused');
    }
    await throttle.succeeded(first.ticket);
    expect((await throttle.begin(name(), address)).admitted).toBe(true);
    expect((await throttle.begin(name(), address)).admitted).toBe(true);
    const refused = await throttle.begin(name(), address);
    expect(refused).toMatchObject({ admitted: false, by: 'address' });
    expect(!refused.admitted && refused.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect((await throttle.begin(name(), ip())).admitted).toBe(true);
  });
});
