import { testTopology, waitFor } from '@murmur/testing';
import { Redis } from 'ioredis';
import { SessionCache } from './session-cache';
import { SessionStore, systemClock } from './session-store';

/**
 * Two "processes" (a store, a connection and a session cache each) against the test stack's real
 * Redis: what one of them changes reaches the other's cache by pub/sub, and a cache that cannot
 * hear those changes is not used.
 */
describe(`${SessionCache.name} (real Redis)`, () => {
  const port = testTopology().redis[0].port;
  const config = { SESSION_IDLE_SECONDS: 600, SESSION_ABSOLUTE_SECONDS: 3600 };
  let now = Date.now();
  const opened: Redis[] = [];
  const stores: SessionStore[] = [];

  function process(): { store: SessionStore; cache: SessionCache; redis: Redis } {
    const redis = new Redis(port, '127.0.0.1');
    const subscriber = new Redis(port, '127.0.0.1');
    opened.push(redis);
    const cache = new SessionCache(subscriber, { ttlMs: 2_000, maxEntries: 100, now: () => now });
    const store = new SessionStore(redis, config, systemClock, cache);
    stores.push(store);
    return { store, cache, redis };
  }

  const user = (): string => String(8_100_000_000_000 + Math.floor(Math.random() * 1e9));

  beforeEach(() => {
    now = Date.now();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(opened.map((r) => r.quit()));
  });

  async function ready(...caches: SessionCache[]): Promise<void> {
    await waitFor(() => Promise.resolve(caches.every((c) => c.active) || undefined), {
      timeoutMs: 5_000,
      what: 'the session caches subscribed',
    });
  }

  it('answers reads of a session it has read from memory until its TTL; writes always ask Redis', async () => {
    const a = process();
    await ready(a.cache);
    const { token, session } = await a.store.create(user());
    await expect(a.store.touch(token)).resolves.toMatchObject({ id: session.id });
    // Gone from Redis behind the cache's back (nothing announced): still answered from memory…
    await a.redis.del(`session:${session.id}`);
    await expect(a.store.touch(token)).resolves.toMatchObject({ id: session.id });
    // …but not past the TTL.
    now += 2_001;
    await expect(a.store.touch(token)).resolves.toBeUndefined();

    // A write always asks Redis (a revoked session must not write, even before the message),
    // and what Redis says then replaces the copy.
    const other = await a.store.create(user());
    await a.store.touch(other.token);
    await a.redis.del(`session:${other.session.id}`);
    await expect(a.store.touch(other.token, { fromCache: false })).resolves.toBeUndefined();
    await expect(a.store.touch(other.token)).resolves.toBeUndefined();
  });

  it('forgets a session at once in every process when one of them revokes it', async () => {
    const [a, b] = [process(), process()];
    await ready(a.cache, b.cache);
    const id = user();
    const one = await a.store.create(id);
    const all = [await a.store.create(id), await a.store.create(id)];
    for (const s of [one, ...all]) {
      await expect(b.store.touch(s.token)).resolves.toBeDefined();
    }
    await a.store.revoke(one.session.id, id);
    await waitFor(async () => (await b.store.touch(one.token)) === undefined || undefined, {
      timeoutMs: 500,
      what: 'the revoked session forgotten by the other process',
    });
    await a.store.revokeAll(id);
    for (const s of all) {
      await waitFor(async () => (await b.store.touch(s.token)) === undefined || undefined, {
        timeoutMs: 500,
        what: 'every session of the user forgotten by the other process',
      });
    }
  });

  it("sees another process's new write position (read-your-writes) without waiting for the TTL", async () => {
    const [a, b] = [process(), process()];
    await ready(a.cache, b.cache);
    const { token, session } = await a.store.create(user(), { main: '0/10' });
    await expect(b.store.touch(token)).resolves.toMatchObject({ lsn: { main: '0/10' } });
    await a.store.rememberLsn(session.id, 'main', '0/20');
    // The writer's own next read sees it at once.
    await expect(a.store.touch(token)).resolves.toMatchObject({ lsn: { main: '0/20' } });
    await waitFor(
      async () => ((await b.store.touch(token))?.lsn.main === '0/20' ? true : undefined),
      { timeoutMs: 500, what: 'the new write position in the other process' },
    );
  });

  it('does not answer from memory while it cannot hear changes, and starts empty after', async () => {
    const redis = new Redis(port, '127.0.0.1');
    const subscriber = new Redis(port, '127.0.0.1');
    opened.push(redis);
    const cache = new SessionCache(subscriber, { ttlMs: 2_000, maxEntries: 100, now: () => now });
    const store = new SessionStore(redis, config, systemClock, cache);
    await ready(cache);
    const { token, session } = await store.create(user());
    await store.touch(token);
    // The subscription drops (as when Redis restarts): what it holds may have missed a message.
    subscriber.disconnect(true);
    await redis.del(`session:${session.id}`);
    await waitFor(() => Promise.resolve(!cache.active || undefined), {
      timeoutMs: 2_000,
      what: 'cache inactive',
    });
    await expect(store.touch(token)).resolves.toBeUndefined();
    // Back (ioredis reconnects and subscribes again): nothing stale survived the gap.
    await ready(cache);
    await expect(store.touch(token)).resolves.toBeUndefined();
    await cache.close();
  });
});
