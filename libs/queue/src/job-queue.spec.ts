import {
  FEED_JOBS,
  type FanoutJob,
  type JobItem,
  LEADERBOARD_JOBS,
  LIKES_JOBS,
  QUEUES,
} from '@murmur/contracts';
import type { Queue } from 'bullmq';
import { InMemoryJobQueue } from './in-memory-job-queue';
import { BullJobQueue, type JobQueue, JobQueues } from './job-queue';

const post: FanoutJob = { postId: '900', authorId: '1', createdAt: 1_800_000_000_000 };

/**
 * What the compiler refuses. Each `@ts-expect-error` fails the typecheck stage (tsc over every
 * spec) if the line below it compiles: a wrong payload for a job name, a name the queue does not
 * have, a job of another queue. Never called; only type-checked.
 */
function wrongEnqueuesDoNotCompile(
  feed: JobQueue<typeof QUEUES.feed>,
  likes: JobQueue<typeof QUEUES.likes>,
): void {
  // @ts-expect-error a fan-out job's payload has no follower ids
  void feed.add(FEED_JOBS.fanoutChunk, post);
  // @ts-expect-error a follow job's payload is not a post
  void feed.add(FEED_JOBS.follow, post);
  // @ts-expect-error a fan-out job without its author
  void feed.add(FEED_JOBS.fanout, { postId: '1', createdAt: 1 });
  // @ts-expect-error the score job belongs to the leaderboard queue, not the feed's
  void feed.add(LEADERBOARD_JOBS.score, { board: 'b', userId: '1', delta: 1, eventId: 'e' });
  // @ts-expect-error a flush takes an empty payload
  void likes.add(LIKES_JOBS.flush, { postId: '1' });
  // @ts-expect-error no such job on the likes queue
  void likes.add('sweep', {});
  // @ts-expect-error a bulk entry is checked the same way
  void feed.addBulk([{ name: FEED_JOBS.unfollow, data: post }]);
  // @ts-expect-error an outbox item's payload is checked against its queue and name too
  const item: JobItem = { queue: QUEUES.leaderboard, name: 'score', data: post, jobId: 'x' };
  void item;
}

/** A BullMQ queue as far as adding goes: records what it was asked. */
class RecordingBullQueue {
  readonly calls: unknown[][] = [];

  add(...args: unknown[]): Promise<unknown> {
    this.calls.push(['add', ...args]);
    return Promise.resolve({});
  }

  addBulk(...args: unknown[]): Promise<unknown> {
    this.calls.push(['addBulk', ...args]);
    return Promise.resolve([]);
  }
}

const adapter = <Q extends (typeof QUEUES)[keyof typeof QUEUES]>(name: Q) => {
  const bull = new RecordingBullQueue();
  return { bull, sut: new BullJobQueue(name, bull as unknown as Queue) };
};

describe(BullJobQueue.name, () => {
  it('type-checks payloads against job names (see wrongEnqueuesDoNotCompile)', () => {
    expect(wrongEnqueuesDoNotCompile).toBeInstanceOf(Function);
  });

  it('hands a job to BullMQ with its name, payload and options as they are', async () => {
    const { bull, sut } = adapter(QUEUES.feed);
    await sut.add(FEED_JOBS.fanout, post, { jobId: 'evt-1', attempts: 3 });
    expect(bull.calls).toEqual([['add', 'fanout', post, { jobId: 'evt-1', attempts: 3 }]]);
  });

  it('adds a bulk in one BullMQ call', async () => {
    const { bull, sut } = adapter(QUEUES.feed);
    const chunk = { ...post, followerIds: ['7'] };
    await sut.addBulk([
      { name: FEED_JOBS.fanoutChunk, data: chunk, opts: { jobId: 'c-0' } },
      { name: FEED_JOBS.follow, data: { followerId: '7', followeeId: '1' } },
    ]);
    expect(bull.calls).toEqual([
      [
        'addBulk',
        [
          { name: 'fanout-chunk', data: chunk, opts: { jobId: 'c-0' } },
          { name: 'follow', data: { followerId: '7', followeeId: '1' }, opts: undefined },
        ],
      ],
    ]);
  });
});

describe(JobQueues.name, () => {
  it('publishes an outbox item on its own queue, with its id as job id', async () => {
    const feed = adapter(QUEUES.feed);
    const leaderboard = adapter(QUEUES.leaderboard);
    const sut = new JobQueues([feed.sut, leaderboard.sut]);
    const score = { board: 'posters', userId: '1', delta: 1, eventId: 'post-900' };
    await sut.publish({ queue: QUEUES.leaderboard, name: 'score', data: score, jobId: 'evt-9' });
    expect(leaderboard.bull.calls).toEqual([['add', 'score', score, { jobId: 'evt-9' }]]);
    expect(feed.bull.calls).toEqual([]);
  });

  it('refuses an item for a queue this process did not register', async () => {
    const sut = new JobQueues([adapter(QUEUES.feed).sut]);
    await expect(
      sut.publish({ queue: QUEUES.likes, name: 'flush', data: {}, jobId: 'x' }),
    ).rejects.toThrow('queue likes is not registered');
  });
});

describe(InMemoryJobQueue.name, () => {
  it('keeps jobs in order and, like BullMQ, no second job under a kept id', async () => {
    const sut = new InMemoryJobQueue(QUEUES.feed);
    await sut.add(FEED_JOBS.fanout, post, { jobId: 'a' });
    await sut.add(FEED_JOBS.fanout, { ...post, postId: '901' }, { jobId: 'a' });
    await sut.add(FEED_JOBS.fanout, { ...post, postId: '902' });
    expect(sut.adds).toBe(3);
    expect(sut.jobs.map((j) => j.data)).toEqual([post, { ...post, postId: '902' }]);
  });

  it('fails every add while told to', async () => {
    const sut = new InMemoryJobQueue(QUEUES.likes);
    sut.failing = new Error('queue down');
    await expect(sut.add(LIKES_JOBS.flush, {})).rejects.toThrow('queue down');
    expect(sut.jobs).toEqual([]);
  });
});
