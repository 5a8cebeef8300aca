import { Inject, Injectable, Logger } from '@nestjs/common';
import type { LikesConfig } from '@murmur/config';
import { LIKES_JOBS, QUEUES } from '@murmur/contracts';
import { isKnownShardId, parseId } from '@murmur/database';
import { withDeadline } from '@murmur/errors';
import { ENQUEUE_DEADLINE_MS, InjectJobQueue, type JobQueue } from '@murmur/queue';
import { LikeStore } from './like-store';
import { LikeError, LikeErrorCode } from './likes.errors';
import { likeWritesTotal } from './likes.metrics';
import { LikesRepository } from './likes.repository';

export type LikesQueue = JobQueue<typeof QUEUES.likes>;

export const LIKES_CONFIG = Symbol('LIKES_CONFIG');
/** A read waits this long for live counts, then shows the rows' counts (a hung Redis). */
const LIVE_COUNT_TIMEOUT_MS = 200;

export interface LikeState {
  postId: string;
  liked: boolean;
  likeCount: number;
}

/** The flush job's deduplication id: at most one flush waits and one runs, never two at once. */
export const FLUSH_DEDUP_ID = 'likes-flush';

/** Enqueue a flush after the coalescing window, unless one is already waiting. */
export async function scheduleFlush(queue: LikesQueue, delayMs: number): Promise<void> {
  await withDeadline(
    queue.add(
      LIKES_JOBS.flush,
      {},
      {
        delay: delayMs,
        deduplication: { id: FLUSH_DEDUP_ID, keepLastIfActive: true },
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600 },
      },
    ),
    ENQUEUE_DEADLINE_MS,
    'The job queue',
  );
}

@Injectable()
export class LikesService {
  private readonly logger = new Logger(LikesService.name);

  constructor(
    @Inject(LikeStore) private readonly store: LikeStore,
    @Inject(LikesRepository) private readonly repository: LikesRepository,
    @Inject(LIKES_CONFIG) private readonly config: LikesConfig,
    @InjectJobQueue(QUEUES.likes) private readonly queue: LikesQueue,
  ) {}

  get mode(): 'behind' | 'through' {
    return this.config.WRITE_BEHIND_ENABLED ? 'behind' : 'through';
  }

  /** Like (`liked` true) or unlike a post; doing it twice is the same as once. */
  async set(rawId: string, userId: string, liked: boolean): Promise<LikeState> {
    const id = parseId(rawId);
    if (id === undefined || !isKnownShardId(id)) {
      throw new LikeError(LikeErrorCode.PostNotFound, `No post with id ${rawId.slice(0, 40)}.`);
    }
    const count =
      this.mode === 'behind'
        ? await this.writeBehind(id, userId, liked)
        : await this.writeThrough(id, userId, liked);
    likeWritesTotal.inc({ mode: this.mode, op: liked ? 'like' : 'unlike' });
    return { postId: id.toString(), liked, likeCount: count };
  }

  /**
   * Write-behind: acknowledged once the data Redis (AOF) holds the change; a BullMQ job writes it
   * to Postgres with every other change of the coalescing window. With the data Redis down the
   * like is refused (503): accepting it nowhere would lose it.
   */
  private async writeBehind(id: bigint, userId: string, liked: boolean): Promise<number> {
    const postId = id.toString();
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const applied = await this.store.apply(postId, userId, liked);
        if (applied) {
          if (applied.changed) {
            // The change is safe in Redis already: if the enqueue fails, the worker's sweep
            // finds the post in `likes:dirty` and flushes it.
            await scheduleFlush(this.queue, this.config.WRITE_BEHIND_FLUSH_MS).catch(
              (error: Error) => this.logger.warn(`flush not scheduled: ${error.message}`),
            );
          }
          return applied.count;
        }
        // Not loaded, or this user not known yet: the count and this one user's membership
        // from Postgres, never the whole set of likers (one script over every liker of a
        // popular post would stall the data Redis for everyone).
        const state = await this.repository.loadState(id, userId);
        if (!state) {
          throw new LikeError(LikeErrorCode.PostNotFound, `No post with id ${postId}.`);
        }
        await this.store.load(
          postId,
          state.count,
          new Map([[userId, state.liked]]),
          this.config.LIKES_IDLE_SECONDS,
        );
      }
    } catch (error) {
      if (error instanceof LikeError) {
        throw error;
      }
      this.logger.warn(`like of ${postId} not stored: ${(error as Error).message}`);
      throw new LikeError(LikeErrorCode.Unavailable, 'Likes are unavailable; try again.');
    }
    // Loaded three times and gone three times: the keys expire faster than we load them.
    throw new LikeError(LikeErrorCode.Unavailable, 'Likes are busy; try again.');
  }

  /** Write-through: the like is a Postgres transaction, then the committed count goes to Redis. */
  private async writeThrough(id: bigint, userId: string, liked: boolean): Promise<number> {
    const committed = await this.repository.applyOne(id, userId, liked);
    if (!committed) {
      throw new LikeError(LikeErrorCode.PostNotFound, `No post with id ${id}.`);
    }
    await this.store
      .storeCommitted(
        id.toString(),
        committed.count,
        committed.version,
        this.config.LIKES_IDLE_SECONDS,
      )
      .catch((error: Error) =>
        // Committed in Postgres already; readers see the row's count when the post cache reloads.
        this.logger.warn(`count of ${id} not cached: ${error.message}`),
      );
    return committed.count;
  }

  /**
   * The counts Redis holds for these posts, for reads to lay over the cached rows (whose
   * `like_count` lags the write-behind counter). Empty when Redis cannot answer: reads then show
   * the row's count rather than fail.
   */
  async liveCounts(postIds: string[]): Promise<Map<string, number>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Map<string, number>>((resolve) => {
      timer = setTimeout(() => resolve(new Map()), LIVE_COUNT_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.store.counts(postIds, this.mode), timeout]);
    } catch {
      return new Map();
    } finally {
      clearTimeout(timer);
    }
  }
}
