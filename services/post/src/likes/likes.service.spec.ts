import { LIKES_JOBS, QUEUES } from '@murmur/contracts';
import type { LikesConfig } from '@murmur/config';
import { composePostId } from '@murmur/database';
import { InMemoryJobQueue } from '@murmur/queue';
import type { LikeStore } from './like-store';
import { LikesFlushService } from './likes-flush.service';
import { LikeError, LikeErrorCode } from './likes.errors';
import type { LikesRepository } from './likes.repository';
import { FLUSH_DEDUP_ID, LikesService } from './likes.service';

const postId = composePostId(1_800_000_000_000, 5, 1).toString();

/** The data Redis's like keys for one loaded post; `dirty` posts wait for a flush. */
class FakeLikeStore implements Pick<LikeStore, 'apply' | 'dirtyCount' | 'storeCommitted'> {
  readonly likers = new Set<string>();
  dirty = 0;

  apply(_postId: string, userId: string, like: boolean) {
    const changed = like !== this.likers.has(userId);
    if (like) {
      this.likers.add(userId);
    } else {
      this.likers.delete(userId);
    }
    return Promise.resolve({ changed, count: this.likers.size });
  }

  dirtyCount(): Promise<number> {
    return Promise.resolve(this.dirty);
  }

  storeCommitted(): Promise<void> {
    return Promise.resolve();
  }
}

class FakeLikesRepository implements Pick<LikesRepository, 'applyOne'> {
  applyOne(): Promise<{ count: number; version: string } | undefined> {
    return Promise.resolve({ count: 1, version: '1' });
  }
}

const config = (writeBehind: boolean): LikesConfig => ({
  WRITE_BEHIND_ENABLED: writeBehind,
  WRITE_BEHIND_FLUSH_MS: 1_000,
  WRITE_BEHIND_BATCH: 500,
  LIKES_IDLE_SECONDS: 3_600,
});

const setup = (writeBehind = true) => {
  const store = new FakeLikeStore();
  const queue = new InMemoryJobQueue(QUEUES.likes);
  const repository = new FakeLikesRepository() as unknown as LikesRepository;
  const deps = [store as unknown as LikeStore, repository, config(writeBehind), queue] as const;
  return { store, queue, sut: new LikesService(...deps), flusher: new LikesFlushService(...deps) };
};

describe(LikesService.name, () => {
  it('schedules one deduplicated flush after the coalescing window for a like written behind', async () => {
    const { queue, sut } = setup();
    await expect(sut.set(postId, '7', true)).resolves.toEqual({
      postId,
      liked: true,
      likeCount: 1,
    });
    expect(queue.jobs).toEqual([
      {
        name: LIKES_JOBS.flush,
        data: {},
        opts: expect.objectContaining({
          delay: 1_000,
          deduplication: { id: FLUSH_DEDUP_ID, keepLastIfActive: true },
        }) as unknown,
      },
    ]);
  });

  it('schedules nothing for a like that changes nothing', async () => {
    const { queue, sut } = setup();
    await sut.set(postId, '7', true);
    await sut.set(postId, '7', true);
    expect(queue.adds).toBe(1);
  });

  it('acknowledges a like whose flush could not be queued: it is in Redis, and the sweep finds it', async () => {
    const { queue, sut } = setup();
    queue.failing = new Error('queue down');
    await expect(sut.set(postId, '7', true)).resolves.toMatchObject({ likeCount: 1 });
  });

  it('queues no flush for a like written through', async () => {
    const { queue, sut } = setup(false);
    await expect(sut.set(postId, '7', true)).resolves.toMatchObject({ likeCount: 1 });
    expect(queue.adds).toBe(0);
  });

  it('answers not found for what is not a post id', async () => {
    const { sut } = setup();
    await expect(sut.set('not-an-id', '7', true)).rejects.toEqual(
      new LikeError(LikeErrorCode.PostNotFound, 'No post with id not-an-id.'),
    );
  });
});

describe(LikesFlushService.name, () => {
  it('sweeps: queues a flush now when posts are pending, nothing when none are', async () => {
    const { store, queue, flusher } = setup();
    await expect(flusher.sweep()).resolves.toBe(0);
    expect(queue.jobs).toEqual([]);
    store.dirty = 3;
    await expect(flusher.sweep()).resolves.toBe(3);
    expect(queue.jobs.map((j) => [j.name, j.opts?.delay])).toEqual([[LIKES_JOBS.flush, 0]]);
  });
});
