import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { LikesConfig } from '@murmur/config';
import { LIKES_JOBS, QUEUES } from '@murmur/contracts';
import { InMemoryJobQueue } from '@murmur/queue';
import { freePort } from '@murmur/testing';
import { Redis } from 'ioredis';
import { KEYS, type LikeChange, LikeStore } from './like-store';
import { LikesFlushService } from './likes-flush.service';
import type { LikesRepository } from './likes.repository';

const IDLE = 3_600;

/** A redis-server of this test's own on a free port: no stack, no persistence. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let log = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Ready to accept connections')) {
        resolve();
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${log}`)));
  });
  return child;
}

/** Postgres as the flush sees it: each batch it was asked to write; a crash when told to fail. */
class RecordingLikesRepository implements Pick<LikesRepository, 'applyBatch'> {
  readonly batches: Map<string, LikeChange>[] = [];
  failNext?: Error;

  applyBatch(changes: Map<string, LikeChange>): Promise<void> {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      return Promise.reject(error);
    }
    this.batches.push(changes);
    return Promise.resolve();
  }

  /** every change written, per post and user, the later batch winning */
  written(): Record<string, Record<string, boolean>> {
    const all: Record<string, Record<string, boolean>> = {};
    for (const batch of this.batches) {
      for (const [postId, changes] of batch) {
        all[postId] = { ...all[postId], ...Object.fromEntries(changes) };
      }
    }
    return all;
  }
}

const changes = (entries: Record<string, boolean>): LikeChange => new Map(Object.entries(entries));
const userIds = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i + 1));
/** Postgres's word on these users, as the service passes it to `load`: each likes the post. */
const likers = (...ids: string[]): Map<string, boolean> => new Map(ids.map((id) => [id, true]));
const none = new Map<string, boolean>();

describe(`${LikeStore.name} (real Redis)`, () => {
  let server: ChildProcess;
  let redis: Redis;
  let sut: LikeStore;

  beforeAll(async () => {
    const port = await freePort();
    server = await startRedis(port);
    redis = new Redis(port, '127.0.0.1');
    sut = new LikeStore(redis);
  });

  afterAll(async () => {
    await redis?.quit();
    if (server && server.exitCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      await exited;
    }
  });

  beforeEach(async () => {
    await redis.flushall();
  });

  const flusher = (batch = 500) => {
    const repository = new RecordingLikesRepository();
    const queue = new InMemoryJobQueue(QUEUES.likes);
    const config: LikesConfig = {
      WRITE_BEHIND_ENABLED: true,
      WRITE_BEHIND_FLUSH_MS: 1_000,
      WRITE_BEHIND_BATCH: batch,
      LIKES_IDLE_SECONDS: IDLE,
    };
    const service = new LikesFlushService(
      sut,
      repository as unknown as LikesRepository,
      config,
      queue,
    );
    return { repository, queue, service };
  };

  /**
   * What the service does: apply, and if Redis does not know the user yet, load Postgres's word
   * (here: the user has never liked the post; the count only counts if the post is not loaded)
   * and apply again.
   */
  const apply = async (postId: string, userId: string, like: boolean) => {
    const applied = await sut.apply(postId, userId, like);
    if (applied) {
      return applied;
    }
    await sut.load(postId, 0, new Map([[userId, false]]), IDLE);
    return sut.apply(postId, userId, like);
  };

  describe('apply and load', () => {
    it('answers "not loaded" to a like of a post whose likes are not loaded, and stores nothing', async () => {
      await expect(sut.apply('p', 'a', true)).resolves.toBeUndefined();
      await expect(redis.exists(KEYS.members('p'), KEYS.pending('p'), KEYS.dirty)).resolves.toBe(0);
    });

    it('answers "not loaded" to a user Redis has no word on yet, and changes nothing', async () => {
      await sut.load('p', 7, likers('a'), IDLE);
      await expect(sut.apply('p', 'b', true)).resolves.toBeUndefined();
      await expect(sut.apply('p', 'b', false)).resolves.toBeUndefined();
      await expect(redis.get(KEYS.count('p'))).resolves.toBe('7');
      await expect(redis.exists(KEYS.pending('p'), KEYS.dirty)).resolves.toBe(0);
    });

    it('counts each like and unlike of a loaded post once, and marks the post dirty', async () => {
      await sut.load('p', 2, likers('a', 'b'), IDLE);
      await expect(apply('p', 'c', true)).resolves.toEqual({ changed: true, count: 3 });
      await expect(apply('p', 'c', true)).resolves.toEqual({ changed: false, count: 3 });
      await expect(apply('p', 'a', false)).resolves.toEqual({ changed: true, count: 2 });
      await expect(apply('p', 'a', false)).resolves.toEqual({ changed: false, count: 2 });
      await expect(apply('p', 'never', false)).resolves.toEqual({ changed: false, count: 2 });
      await expect(redis.hgetall(KEYS.members('p'))).resolves.toEqual({
        a: '0',
        b: '1',
        c: '1',
        never: '0',
      });
      await expect(redis.hgetall(KEYS.pending('p'))).resolves.toEqual({ c: '1', a: '0' });
      await expect(redis.smembers(KEYS.dirty)).resolves.toEqual(['p']);
      await expect(sut.counts(['p', 'other'], 'behind')).resolves.toEqual(new Map([['p', 2]]));
    });

    it('keeps a post’s keys while it has changes: a change persists what load set to expire', async () => {
      await sut.load('p', 1, likers('a'), IDLE);
      expect(await redis.ttl(KEYS.count('p'))).toBeGreaterThan(0);
      expect(await redis.ttl(KEYS.members('p'))).toBeGreaterThan(0);
      await apply('p', 'b', true);
      await expect(redis.ttl(KEYS.count('p'))).resolves.toBe(-1);
      await expect(redis.ttl(KEYS.members('p'))).resolves.toBe(-1);
      // a user looked up later joins members without making them expire again
      await apply('p', 'c', false);
      await expect(redis.ttl(KEYS.members('p'))).resolves.toBe(-1);
    });

    it('keeps the last word per user in pending: like, unlike, like is a like', async () => {
      await sut.load('p', 0, none, IDLE);
      await apply('p', 'a', true);
      await apply('p', 'a', false);
      await apply('p', 'a', true);
      await apply('p', 'b', true);
      await apply('p', 'b', false);
      await expect(redis.hgetall(KEYS.pending('p'))).resolves.toEqual({ a: '1', b: '0' });
      await expect(sut.claim(['p'])).resolves.toEqual(
        new Map([['p', changes({ a: true, b: false })]]),
      );
    });

    it('keeps what Redis knows when loading a post that is loaded already: the live count and each user’s newer word stay', async () => {
      await sut.load('p', 1, likers('a'), IDLE);
      await apply('p', 'b', true);
      // a slow request's Postgres read from before b's like: neither its count nor its word on b
      await sut.load('p', 0, new Map([['b', false]]), IDLE);
      await expect(redis.get(KEYS.count('p'))).resolves.toBe('2');
      await expect(redis.hgetall(KEYS.members('p'))).resolves.toEqual({ a: '1', b: '1' });
      await expect(redis.ttl(KEYS.count('p'))).resolves.toBe(-1);
      await expect(apply('p', 'b', true)).resolves.toEqual({ changed: false, count: 2 });
    });

    it('forgets members left from before when it loads a post whose count expired', async () => {
      await redis.hset(KEYS.members('p'), 'stale', '1');
      await sut.load('p', 1, likers('a'), IDLE);
      await expect(redis.hgetall(KEYS.members('p'))).resolves.toEqual({ a: '1' });
    });

    it('loads a post with no likers as loaded, count 0, expiring after the idle time', async () => {
      await sut.load('p', 0, none, IDLE);
      await expect(redis.get(KEYS.count('p'))).resolves.toBe('0');
      expect(await redis.ttl(KEYS.count('p'))).toBeGreaterThan(0);
      await expect(apply('p', 'a', false)).resolves.toEqual({ changed: false, count: 0 });
      await expect(apply('p', 'a', true)).resolves.toEqual({ changed: true, count: 1 });
    });

    it('loads a post with 12,000 likers as its count and the one user asked about, not 12,000 members', async () => {
      await sut.load('p', 12_000, likers('12000'), IDLE);
      await expect(redis.hlen(KEYS.members('p'))).resolves.toBe(1);
      expect(await redis.pttl(KEYS.members('p'))).toBeGreaterThan(0);
      await expect(sut.apply('p', '12000', true)).resolves.toEqual({
        changed: false,
        count: 12_000,
      });
      // another liker Postgres knows: looked up on their own, counted once
      await expect(sut.apply('p', '7', true)).resolves.toBeUndefined();
      await sut.load('p', 12_000, likers('7'), IDLE);
      await expect(sut.apply('p', '7', true)).resolves.toEqual({ changed: false, count: 12_000 });
      await expect(apply('p', '12001', true)).resolves.toEqual({ changed: true, count: 12_001 });
      await expect(redis.hlen(KEYS.members('p'))).resolves.toBe(3);
    });
  });

  describe('one flush window', () => {
    it('writes the net result of a like then an unlike by one user: the unlike, count back', async () => {
      await sut.load('p', 1, likers('a'), IDLE);
      await expect(apply('p', 'u', true)).resolves.toEqual({ changed: true, count: 2 });
      await expect(apply('p', 'u', false)).resolves.toEqual({ changed: true, count: 1 });
      await expect(redis.hgetall(KEYS.pending('p'))).resolves.toEqual({ u: '0' });
      await expect(redis.get(KEYS.count('p'))).resolves.toBe('1');

      const { repository, service } = flusher();
      await expect(service.flush()).resolves.toEqual({
        rounds: 1,
        posts: 1,
        changes: 1,
        remaining: 0,
      });
      expect(repository.written()).toEqual({ p: { u: false } });
      await expect(redis.get(KEYS.count('p'))).resolves.toBe('1');
    });
  });

  describe('claim and finish', () => {
    it('claims a post’s pending changes into flushing and returns them; posts without changes are left out', async () => {
      await sut.load('p', 1, likers('b'), IDLE);
      await sut.load('q', 0, none, IDLE);
      await apply('p', 'a', true);
      await apply('p', 'b', false);
      await expect(sut.claim(['p', 'q'])).resolves.toEqual(
        new Map([['p', changes({ a: true, b: false })]]),
      );
      await expect(redis.exists(KEYS.pending('p'))).resolves.toBe(0);
      await expect(redis.hgetall(KEYS.flushing('p'))).resolves.toEqual({ a: '1', b: '0' });
      await expect(redis.smembers(KEYS.dirty)).resolves.toEqual(['p']);
    });

    it('keeps a like that arrived between claim and finish pending, and the post dirty', async () => {
      await sut.load('p', 0, none, IDLE);
      await apply('p', 'a', true);
      await sut.claim(['p']);
      await apply('p', 'c', true);
      await sut.finish(['p'], IDLE);
      await expect(redis.exists(KEYS.flushing('p'))).resolves.toBe(0);
      await expect(redis.hgetall(KEYS.pending('p'))).resolves.toEqual({ c: '1' });
      await expect(sut.dirtyPosts(10)).resolves.toEqual(['p']);
      await expect(redis.ttl(KEYS.count('p'))).resolves.toBe(-1);
      await expect(redis.ttl(KEYS.members('p'))).resolves.toBe(-1);
      await expect(sut.claim(['p'])).resolves.toEqual(new Map([['p', changes({ c: true })]]));
    });

    it('makes a post clean when a flush finishes with nothing new: out of dirty, keys expiring after the idle time', async () => {
      await sut.load('p', 0, none, IDLE);
      await apply('p', 'a', true);
      await sut.claim(['p']);
      await sut.finish(['p'], 120);
      await expect(redis.exists(KEYS.flushing('p'), KEYS.pending('p'))).resolves.toBe(0);
      await expect(sut.dirtyCount()).resolves.toBe(0);
      for (const key of [KEYS.count('p'), KEYS.members('p')]) {
        const ttl = await redis.ttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(120);
      }
      // the next like of the clean post makes it dirty and keeps its keys again
      await expect(apply('p', 'b', true)).resolves.toEqual({ changed: true, count: 2 });
      await expect(redis.ttl(KEYS.count('p'))).resolves.toBe(-1);
      await expect(sut.dirtyPosts(10)).resolves.toEqual(['p']);
    });

    it('claims 12,000 changes of one post gathered in one window (more than Lua unpacks at once)', async () => {
      await sut.load('p', 0, none, IDLE);
      await Promise.all(userIds(12_000).map((u) => apply('p', u, true)));
      const claimed = await sut.claim(['p']);
      expect(claimed.get('p')?.size).toBe(12_000);
      expect([...(claimed.get('p')?.values() ?? [])].every((liked) => liked)).toBe(true);
      await expect(redis.exists(KEYS.pending('p'))).resolves.toBe(0);
      await expect(redis.hlen(KEYS.flushing('p'))).resolves.toBe(12_000);
    }, 30_000);
  });

  describe('a flush that died between claim and finish', () => {
    it('is merged by the next claim with the newer changes: the newer word per user wins, nothing is lost', async () => {
      await sut.load('p', 1, likers('x'), IDLE);
      await apply('p', 'a', true);
      await apply('p', 'x', false);
      await apply('p', 'b', true);
      await sut.claim(['p']); // the flush dies here, before finish
      await apply('p', 'a', false);
      await apply('p', 'c', true);

      const expected = changes({ a: false, x: false, b: true, c: true });
      await expect(sut.claim(['p'])).resolves.toEqual(new Map([['p', expected]]));
      await expect(redis.exists(KEYS.pending('p'))).resolves.toBe(0);
      await expect(sut.dirtyPosts(10)).resolves.toEqual(['p']);
      await sut.finish(['p'], IDLE);
      await expect(sut.dirtyCount()).resolves.toBe(0);
      await expect(redis.hgetall(KEYS.members('p'))).resolves.toEqual({
        a: '0',
        b: '1',
        c: '1',
        x: '0',
      });
      await expect(redis.get(KEYS.count('p'))).resolves.toBe('2');
    });

    it('is written again by the next flush of the service, with what arrived since', async () => {
      await sut.load('p', 0, none, IDLE);
      await sut.load('q', 0, none, IDLE);
      await apply('p', 'a', true);
      await apply('q', 'a', true);
      const { repository, service } = flusher();
      repository.failNext = new Error('the worker died mid-flush');
      await expect(service.flush()).rejects.toThrow('the worker died mid-flush');
      expect((await sut.dirtyPosts(10)).sort()).toEqual(['p', 'q']);

      await apply('p', 'a', false);
      await apply('p', 'b', true);
      await expect(service.flush()).resolves.toMatchObject({ posts: 2, changes: 3, remaining: 0 });
      expect(repository.written()).toEqual({ p: { a: false, b: true }, q: { a: true } });
      await expect(sut.dirtyCount()).resolves.toBe(0);
      await expect(redis.exists(KEYS.flushing('p'), KEYS.flushing('q'))).resolves.toBe(0);
    });
  });

  describe('finding the posts to flush (likes:dirty)', () => {
    const likeEach = async (n: number) => {
      const posts = Array.from({ length: n }, (_, i) => `p${i}`);
      for (const id of posts) {
        await sut.load(id, 0, none, IDLE);
        await apply(id, 'u', true);
      }
      return posts;
    };

    it('drains every dirty post in batches, once each, and queues nothing more', async () => {
      const posts = await likeEach(25);
      const { repository, queue, service } = flusher(10);
      await expect(service.flush()).resolves.toEqual({
        rounds: 3,
        posts: 25,
        changes: 25,
        remaining: 0,
      });
      expect(repository.batches.map((b) => b.size)).toEqual([10, 10, 5]);
      expect(Object.keys(repository.written()).sort()).toEqual([...posts].sort());
      await expect(sut.dirtyCount()).resolves.toBe(0);
      expect(queue.jobs).toEqual([]);
    });

    it('leaves a backlog larger than one job’s rounds dirty and queues its continuation now', async () => {
      await likeEach(45);
      const { queue, service } = flusher(2);
      await expect(service.flush()).resolves.toEqual({
        rounds: 20,
        posts: 40,
        changes: 40,
        remaining: 5,
      });
      await expect(sut.dirtyCount()).resolves.toBe(5);
      expect(queue.jobs.map((j) => [j.name, j.opts?.delay])).toEqual([[LIKES_JOBS.flush, 0]]);
    });

    it('sweeps: finds posts left dirty (a like whose flush was never queued) and queues a flush', async () => {
      await likeEach(3);
      const { queue, service } = flusher();
      await expect(service.sweep()).resolves.toBe(3);
      expect(queue.jobs.map((j) => [j.name, j.opts?.delay])).toEqual([[LIKES_JOBS.flush, 0]]);
      await service.flush();
      await expect(service.sweep()).resolves.toBe(0);
      expect(queue.jobs).toHaveLength(1);
    });
  });

  describe('write-through', () => {
    it('stores the committed count unless a later commit stored its own', async () => {
      await sut.storeCommitted('p', 5, '200', IDLE);
      await sut.storeCommitted('p', 4, '100', IDLE);
      await expect(sut.counts(['p'], 'through')).resolves.toEqual(new Map([['p', 5]]));
      await sut.storeCommitted('p', 6, '300', IDLE);
      await expect(sut.counts(['p'], 'through')).resolves.toEqual(new Map([['p', 6]]));
      expect(await redis.ttl(KEYS.committed('p'))).toBeGreaterThan(0);
    });

    it('drops a clean post’s write-behind keys, and keeps those of a post with unflushed changes', async () => {
      await sut.load('clean', 1, likers('a'), IDLE);
      await sut.load('dirty', 0, none, IDLE);
      await apply('dirty', 'a', true);
      await sut.storeCommitted('clean', 1, '1', IDLE);
      await sut.storeCommitted('dirty', 0, '1', IDLE);
      await expect(redis.exists(KEYS.count('clean'), KEYS.members('clean'))).resolves.toBe(0);
      await expect(redis.exists(KEYS.count('dirty'), KEYS.members('dirty'))).resolves.toBe(2);
    });
  });
});
