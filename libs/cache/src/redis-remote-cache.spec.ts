import type { CacheEntry } from './cache-entry';
import { type L2Client, RedisRemoteCache } from './redis-remote-cache';
import { z } from 'zod';
import { DELETE_IF_EQUAL, REFRESH_LEASE, SET_IF_NEWER } from './redis-scripts';

type Value = { v: number };

/**
 * A Redis connection that keeps plain keys in memory, records the scripts it is asked to run
 * (their Lua runs on a real Redis in the integration specs) and can be made to fail.
 */
class FakeConnection implements L2Client {
  readonly store = new Map<string, string>();
  readonly scripts: Array<{ script: string; args: (string | number)[] }> = [];
  /** what `eval` answers */
  answer: unknown = 1;
  calls = 0;
  down = false;

  get(key: string): Promise<string | null> {
    return this.run(() => this.store.get(key) ?? null);
  }
  mget(...keys: string[]): Promise<(string | null)[]> {
    return this.run(() => keys.map((k) => this.store.get(k) ?? null));
  }
  eval(script: string, _numKeys: number, ...args: (string | number)[]): Promise<unknown> {
    return this.run(() => {
      this.scripts.push({ script, args });
      return this.answer;
    });
  }
  del(...keys: string[]): Promise<number> {
    return this.run(() => keys.filter((k) => this.store.delete(k)).length);
  }
  private run<R>(op: () => R): Promise<R> {
    this.calls++;
    return this.down ? Promise.reject(new Error('connection refused')) : Promise.resolve(op());
  }
}

const entry = (v: number, exp = 1_000): CacheEntry<Value> => ({ v: { v }, ver: v, exp });
/**
 * The breaker's windows and reset timers run on Jest's fake clock: `pass(ms)` moves it on (and
 * runs what falls due), so no test waits in real time or depends on how busy the machine is.
 */
const pass = (ms: number): Promise<void> => jest.advanceTimersByTimeAsync(ms).then(() => undefined);

describe(RedisRemoteCache.name, () => {
  let redis: FakeConnection;
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    redis = new FakeConnection();
  });
  afterEach(() => {
    jest.useRealTimers();
  });
  const remoteOf = (breaker = {}, name = 'test'): RedisRemoteCache<Value> =>
    new RedisRemoteCache<Value>(redis, { name, breaker, owner: 'me' });

  it('reads entries as JSON under the cache’s namespace, in order, null when absent', async () => {
    redis.store.set('cache:test:a', JSON.stringify(entry(1)));
    const sut = remoteOf();
    await expect(sut.get('a')).resolves.toEqual({ ok: entry(1) });
    await expect(sut.get('b')).resolves.toEqual({ ok: null });
    await expect(sut.getMany(['b', 'a'])).resolves.toEqual({ ok: [null, entry(1)] });
  });

  it('reads a refused entry as absent and deletes it unless it was replaced meanwhile', async () => {
    const forged = JSON.stringify({ v: { v: 'lots' }, ver: 9e15 });
    redis.store.set('cache:test:a', JSON.stringify(entry(1)));
    redis.store.set('cache:test:bad', forged);
    const sut = new RedisRemoteCache<Value>(redis, {
      name: 'test',
      owner: 'me',
      schema: z.object({ v: z.number() }),
    });
    await expect(sut.get('bad')).resolves.toEqual({ ok: null });
    await expect(sut.getMany(['a', 'bad'])).resolves.toEqual({ ok: [entry(1), null] });
    const deletes = { script: DELETE_IF_EQUAL, args: ['cache:test:bad', forged] };
    expect(redis.scripts).toEqual([deletes, deletes]);
    // A lease that finds a refused entry does not refresh now: the next read misses.
    redis.answer = forged;
    await expect(sut.lease('bad', 5_000, 300)).resolves.toEqual({ ok: 'busy' });
    expect(redis.scripts.at(-1)).toEqual(deletes);
  });

  it('writes an entry with its version and its TTL in ms through the version guard', async () => {
    const sut = remoteOf();
    await expect(sut.setIfNewer('a', entry(7), 1.5)).resolves.toBe('stored');
    expect(redis.scripts).toEqual([
      { script: SET_IF_NEWER, args: ['cache:test:a', JSON.stringify(entry(7)), '7', '1500'] },
    ]);
  });

  it('answers a lease with the newer entry, a win or a loss', async () => {
    const sut = remoteOf();
    redis.answer = JSON.stringify(entry(2, 9_000));
    await expect(sut.lease('a', 5_000, 300)).resolves.toEqual({ ok: entry(2, 9_000) });
    redis.answer = 1;
    await expect(sut.lease('a', 5_000, 300)).resolves.toEqual({ ok: 'won' });
    redis.answer = 0;
    await expect(sut.lease('a', 5_000, 300)).resolves.toEqual({ ok: 'busy' });
    expect(redis.scripts[0]).toEqual({
      script: REFRESH_LEASE,
      args: ['cache:test:a', 'cache-lease:test:a', '5000', '300', 'me'],
    });
  });

  it('deletes entries and reads tag invalidation times under the namespace', async () => {
    redis.store.set('cache:test:a', '{}');
    redis.store.set('cache-tag-at:test:t1', '1234');
    const sut = remoteOf();
    await expect(sut.delete(['a', 'b'])).resolves.toBe(true);
    expect(redis.store.has('cache:test:a')).toBe(false);
    await expect(sut.tagsInvalidatedAt(['t1', 't2'])).resolves.toEqual([1234]);
  });

  it('says "not reached" instead of throwing when Redis fails', async () => {
    redis.down = true;
    const sut = remoteOf();
    await expect(sut.get('a')).resolves.toBeUndefined();
    await expect(sut.setIfNewer('a', entry(1), 1)).resolves.toBe('unreached');
    await expect(sut.delete(['a'])).resolves.toBe(false);
    await expect(sut.tagsInvalidatedAt(['t'])).resolves.toEqual([]);
  });

  it('stops calling a failing Redis once the breaker opens', async () => {
    redis.down = true;
    const sut = remoteOf({ volumeThreshold: 3, resetTimeoutMs: 60_000 });
    for (let i = 0; i < 20; i++) {
      await expect(sut.get(`k${i}`)).resolves.toBeUndefined();
    }
    expect(sut.open).toBe(true);
    expect(redis.calls).toBeLessThanOrEqual(4);
  });

  it('opens the breaker after three failures in a row in a quiet process', async () => {
    redis.down = true;
    const sut = remoteOf({ resetTimeoutMs: 60_000 }, 'quiet-test');
    // quiet: one call every 400 ms, never 5 calls (the volume threshold) within the 1 s window
    for (let i = 0; i < 3; i++) {
      expect(sut.open).toBe(false);
      await sut.get(`q${i}`);
      await pass(400);
    }
    expect(sut.open).toBe(true);
  });

  it('opens the breaker within a few failures even after a busy healthy period', async () => {
    const sut = remoteOf({ windowMs: 200 }, 'window-test');
    for (let i = 0; i < 500; i++) {
      await sut.get(`k${i % 10}`);
    }
    // Over opossum's default 10 s window the successes alone would outvote hundreds of failures,
    // each a timeout against a hung Redis: the short window and the in-a-row rule open it.
    await pass(300);
    redis.down = true;
    let calls = 0;
    while (!sut.open && calls < 100) {
      await sut.get(`k${calls++ % 10}`);
    }
    expect(sut.open).toBe(true);
    expect(calls).toBeLessThanOrEqual(10);
  });

  it('tells its listeners when Redis is reachable again', async () => {
    const sut = remoteOf({ volumeThreshold: 2, resetTimeoutMs: 20 });
    const recovered = jest.fn();
    sut.onRecovered(recovered);
    redis.down = true;
    await sut.get('a');
    await sut.get('a');
    await sut.get('a');
    expect(sut.open).toBe(true);
    redis.down = false;
    await pass(30);
    // the half-open trial call succeeds and closes the breaker
    await expect(sut.get('a')).resolves.toEqual({ ok: null });
    expect(sut.open).toBe(false);
    expect(recovered).toHaveBeenCalledTimes(1);
  });
});
