import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  FEED_JOBS,
  type FanoutChunkJob,
  type FanoutJob,
  type FollowJob,
  QUEUES,
} from '@murmur/contracts';
import { InjectJobQueue, type JobQueue } from '@murmur/queue';
import { fanoutTimelineWritesTotal } from './fanout.metrics';
import { FanoutRepository } from './fanout.repository';

export const FANOUT_OPTIONS = Symbol('FANOUT_OPTIONS');

export interface FanoutOptions {
  /** timelines keep this many newest post ids (TIMELINE_MAX) */
  timelineMax: number;
  /** FANOUT_ON_WRITE */
  fanoutOnWrite: boolean;
  /** most followers one job pushes to (FANOUT_CHUNK_SIZE) */
  chunkSize: number;
}

/**
 * How far a post's fan-out got, saved on its job each time it queued a chunk: the SSCAN cursor of
 * the first page not in a queued chunk, and the number of the next chunk.
 */
export interface FanoutProgress {
  cursor: string;
  chunk: number;
}

/** What a fan-out needs from the job running it: its id, and its progress to resume from. */
export interface FanoutRun {
  /** chunk job ids derive from it, so a re-run queues no second copy of a chunk */
  id: string;
  /** what an earlier attempt saved (it crashed or stalled), if anything */
  progress: FanoutProgress | undefined;
  saveProgress(progress: FanoutProgress): Promise<void>;
}

export interface FanoutResult {
  /**
   * follower timelines this job wrote itself (a small audience, pushed without chunks): the
   * materialised ones; a follower without a timeline gets the post when it is merged
   */
  delivered: number;
  /** chunk jobs the post's fan-out queued, over every attempt */
  chunks: number;
}

/** The job id of chunk `n` of fan-out job `runId` (BullMQ ids: no ':', not an integer). */
export function fanoutChunkId(runId: string, n: number): string {
  return `${runId}-chunk-${n}`;
}

/** A job's saved progress if it is a fan-out's, else undefined (a fresh job has 0). */
export function asFanoutProgress(progress: unknown): FanoutProgress | undefined {
  if (typeof progress !== 'object' || progress === null) {
    return undefined;
  }
  const { cursor, chunk } = progress as Partial<FanoutProgress>;
  return typeof cursor === 'string' && Number.isInteger(chunk)
    ? { cursor, chunk: chunk as number }
    : undefined;
}

/**
 * SSCAN pages per chunk: a chunk is cut at page ends, so smaller pages fill it closer to the
 * bound (SSCAN's COUNT is a hint: a page can hold more or fewer).
 */
const PAGES_PER_CHUNK = 8;

/** `items` cut into the fewest pieces of at most `size`, of even length. */
function evenPieces<T>(items: T[], size: number): T[][] {
  const pieces = Math.ceil(items.length / size);
  const length = Math.ceil(items.length / pieces);
  return Array.from({ length: pieces }, (_, i) => items.slice(i * length, (i + 1) * length));
}

/**
 * A new post goes into its author's own list (`feed:authored`) in every mode. With fan-out on
 * write it is also pushed into the author's and every follower's timeline; with it off, feeds are
 * merged at read time from those lists and nothing is pushed. The follow graph is kept in both
 * directions in both modes, so the mode can be switched without a rebuild.
 *
 * A large audience is pushed in bounded chunk jobs (docs/patterns/fan-out.md): a crash redoes one
 * chunk, and a crashed post job resumes its scan of the followers where it had got to.
 */
@Injectable()
export class FanoutService implements OnApplicationBootstrap {
  private readonly logger = new Logger(FanoutService.name);

  constructor(
    @Inject(FanoutRepository) private readonly repo: FanoutRepository,
    /** where a fan-out queues its chunk jobs: its own queue */
    @InjectJobQueue(QUEUES.feed) private readonly jobs: JobQueue<typeof QUEUES.feed>,
    @Inject(FANOUT_OPTIONS) private readonly options: FanoutOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.logger.log(
      this.options.fanoutOnWrite
        ? `feed mode: fan-out on write (FANOUT_ON_WRITE=true): new posts are pushed into every follower timeline, in jobs of at most ${this.options.chunkSize} followers`
        : 'feed mode: fan-in at read (FANOUT_ON_WRITE=false): new posts are written to their author list only',
    );
  }

  /**
   * A post job. The followers are read a page at a time (SSCAN from the saved cursor, pages of
   * about 1/PAGES_PER_CHUNK of a chunk) and gathered into chunks of whole pages, each queued as a
   * job once the next page would not fit, the progress saved with it: the cursor of the first
   * page not yet queued. An audience that fits one chunk is pushed here, without chunk jobs. A
   * re-run (after a crash or a stall) reads again from the saved cursor, so it queues again at
   * most the chunk it was cutting, under the same id: BullMQ keeps the first.
   */
  async fanout(post: FanoutJob, run: FanoutRun): Promise<FanoutResult> {
    const { timelineMax, fanoutOnWrite, chunkSize } = this.options;
    await this.repo.addAuthored(
      post.authorId,
      post.postId,
      post.createdAt,
      timelineMax,
      fanoutOnWrite,
    );
    if (!fanoutOnWrite) {
      return { delivered: 0, chunks: 0 };
    }
    const pageSize = Math.ceil(chunkSize / PAGES_PER_CHUNK);
    let { cursor, chunk } = run.progress ?? { cursor: '0', chunk: 0 };
    let pending: string[] = [];
    const queuePending = async (resumeFrom: string): Promise<void> => {
      chunk += await this.queueChunks(post, run.id, chunk, pending);
      pending = [];
      if (resumeFrom !== '0') {
        await run.saveProgress({ cursor: resumeFrom, chunk });
      }
    };
    do {
      const page = await this.repo.followersPage(post.authorId, cursor, pageSize);
      if (pending.length > 0 && pending.length + page.members.length > chunkSize) {
        await queuePending(cursor);
      }
      pending.push(...page.members);
      cursor = page.cursor;
      if (pending.length > chunkSize) {
        // One page larger than a chunk (a small set's encoding returns it whole): cut it evenly.
        await queuePending(cursor);
      }
    } while (cursor !== '0');
    if (chunk === 0) {
      return { delivered: await this.push(pending, post), chunks: 0 };
    }
    if (pending.length > 0) {
      await queuePending('0');
    }
    return { delivered: 0, chunks: chunk };
  }

  /** Queue `followers` as chunk jobs `first`, `first + 1`, …; returns how many. */
  private async queueChunks(
    post: FanoutJob,
    runId: string,
    first: number,
    followers: string[],
  ): Promise<number> {
    const pieces = evenPieces(followers, this.options.chunkSize);
    await Promise.all(
      pieces.map((followerIds, i) =>
        this.jobs.add(
          FEED_JOBS.fanoutChunk,
          { postId: post.postId, authorId: post.authorId, createdAt: post.createdAt, followerIds },
          { jobId: fanoutChunkId(runId, first + i) },
        ),
      ),
    );
    return pieces.length;
  }

  /**
   * A chunk job: push the post into the timelines it names (ZADD of the same member and score is
   * a no-op, so a redelivered chunk changes nothing). Returns how many it wrote; none with
   * fan-out switched off since the chunk was queued (jobs run in the worker's current mode).
   */
  async fanoutChunk(chunk: FanoutChunkJob): Promise<number> {
    if (!this.options.fanoutOnWrite) {
      return 0;
    }
    return this.push(chunk.followerIds, chunk);
  }

  /** Push into the followers' materialised timelines; count what was written and skipped. */
  private async push(followerIds: string[], post: FanoutJob): Promise<number> {
    const written = await this.repo.pushToTimelines(
      followerIds,
      post.postId,
      post.createdAt,
      this.options.timelineMax,
    );
    fanoutTimelineWritesTotal.inc({ result: 'written' }, written);
    fanoutTimelineWritesTotal.inc({ result: 'skipped' }, followerIds.length - written);
    return written;
  }

  /**
   * Record the follow in both directions; with fan-out on, also backfill the followee's recent
   * posts into the follower's timeline (fan-in reads them from the followee's list anyway). An
   * event older than the last change applied to the pair does nothing.
   */
  follow(job: FollowJob): Promise<{ applied: boolean }> {
    return this.applyFollowChange('follow', job);
  }

  /** Remove the follow; with fan-out on, also the followee's posts from the follower's timeline. */
  unfollow(job: FollowJob): Promise<{ applied: boolean }> {
    return this.applyFollowChange('unfollow', job);
  }

  private async applyFollowChange(
    change: 'follow' | 'unfollow',
    job: FollowJob,
  ): Promise<{ applied: boolean }> {
    const { followeeId, followerId } = job;
    const applied = await this.repo.applyFollowChange(change, followeeId, followerId, job.version);
    if (applied && this.options.fanoutOnWrite) {
      await (change === 'follow'
        ? this.repo.backfill(followeeId, followerId, this.options.timelineMax)
        : this.repo.prune(followeeId, followerId));
    }
    return { applied };
  }
}
