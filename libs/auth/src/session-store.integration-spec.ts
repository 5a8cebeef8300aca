import { testTopology } from '@murmur/testing';
import { Redis } from 'ioredis';
import { type Clock, hashToken, SessionStore } from './session-store';

class ManualClock implements Clock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
}

/** Against the test stack's real Redis. */
describe(`${SessionStore.name} (real Redis)`, () => {
  const redis = new Redis(testTopology().redis[0].port, '127.0.0.1');
  const config = { SESSION_IDLE_SECONDS: 600, SESSION_ABSOLUTE_SECONDS: 3600 };
  afterAll(() => redis.quit());

  it('stores only the hash of the token, and finds the session by the token', async () => {
    const sut = new SessionStore(redis, config);
    const { token, session } = await sut.create('42', { main: '0/10' });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await redis.exists(`session:${token}`)).toBe(0);
    expect(await redis.exists(`session:${hashToken(token)}`)).toBe(1);
    await expect(sut.touch(token)).resolves.toMatchObject({
      userId: '42',
      id: session.id,
      lsn: { main: '0/10' },
    });
  });

  it('slides the idle timeout but never past the absolute lifetime', async () => {
    const clock = new ManualClock(Date.now());
    const sut = new SessionStore(redis, config, clock);
    const { token, session } = await sut.create('7');
    // TTL answers -2 for a missing key: the session must exist with its idle timeout.
    const first = await redis.ttl(`session:${session.id}`);
    expect(first).toBeGreaterThan(590);
    expect(first).toBeLessThanOrEqual(600);
    clock.ms += 3_500_000; // 100 s of absolute lifetime left
    await sut.touch(token);
    const ttl = await redis.ttl(`session:${session.id}`);
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
    clock.ms += 101_000;
    await expect(sut.touch(token)).resolves.toBeUndefined();
  });

  it('logs out one session, or every session of a user', async () => {
    const sut = new SessionStore(redis, config);
    // A user id no other suite uses: the test stack's Redis is shared, and seeded users (k6
    // smoke) have sessions of their own.
    const user = String(8_000_000_000_000 + Math.floor(Math.random() * 1e9));
    const a = await sut.create(user);
    const b = await sut.create(user);
    await sut.revoke(a.session.id, user);
    await expect(sut.touch(a.token)).resolves.toBeUndefined();
    await expect(sut.touch(b.token)).resolves.toBeDefined();
    const c = await sut.create(user);
    await expect(sut.revokeAll(user)).resolves.toBe(2);
    await expect(sut.touch(b.token)).resolves.toBeUndefined();
    await expect(sut.touch(c.token)).resolves.toBeUndefined();
  });
});
