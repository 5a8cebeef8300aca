import { Inject, Injectable } from '@nestjs/common';
import type { LikesConfig } from '@murmur/config';
import { QUEUES } from '@murmur/contracts';
import { InjectJobQueue } from '@murmur/queue';
import { LikeStore } from './like-store';
import { likeFlushesTotal, likesPendingPosts } from './likes.metrics';
import { LikesRepository } from './likes.repository';
import { LIKES_CONFIG, type LikesQueue, scheduleFlush } from './likes.service';

/** Rounds per job; a backlog larger than this continues in the next job. */
const MAX_ROUNDS = 20;

export interface FlushResult {
  rounds: number;
  posts: number;
  changes: number;
  remaining: number;
}

@Injectable()
export class LikesFlushService {
  constructor(
    @Inject(LikeStore) private readonly store: LikeStore,
    @Inject(LikesRepository) private readonly repository: LikesRepository,
    @Inject(LIKES_CONFIG) private readonly config: LikesConfig,
    @InjectJobQueue(QUEUES.likes) private readonly queue: LikesQueue,
  ) {}

  /**
   * Write pending likes to Postgres, a batch of posts per round: claim their changes in Redis,
   * write them in one transaction per physical shard, then release them. A crash between the
   * claim and the release leaves the changes claimed, and the next flush writes them again —
   * harmless, since the write is idempotent.
   */
  async flush(): Promise<FlushResult> {
    const batch = this.config.WRITE_BEHIND_BATCH;
    const result: FlushResult = { rounds: 0, posts: 0, changes: 0, remaining: 0 };
    while (result.rounds < MAX_ROUNDS) {
      const postIds = await this.store.dirtyPosts(batch);
      if (postIds.length === 0) {
        break;
      }
      const claimed = await this.store.claim(postIds);
      if (claimed.size > 0) {
        await this.repository.applyBatch(claimed);
      }
      await this.store.finish(postIds, this.config.LIKES_IDLE_SECONDS);
      const changes = [...claimed.values()].reduce((n, c) => n + c.size, 0);
      result.rounds++;
      result.posts += claimed.size;
      result.changes += changes;
      likeFlushesTotal.inc({ unit: 'rounds' });
      likeFlushesTotal.inc({ unit: 'posts' }, claimed.size);
      likeFlushesTotal.inc({ unit: 'changes' }, changes);
      if (postIds.length < batch) {
        break;
      }
    }
    result.remaining = await this.store.dirtyCount();
    likesPendingPosts.set(result.remaining);
    if (result.remaining > 0) {
      await scheduleFlush(this.queue, 0);
    }
    return result;
  }

  /** Flush soon if anything is pending: after a restart, or when a like's enqueue failed. */
  async sweep(): Promise<number> {
    const pending = await this.store.dirtyCount();
    likesPendingPosts.set(pending);
    if (pending > 0) {
      await scheduleFlush(this.queue, 0);
    }
    return pending;
  }
}
