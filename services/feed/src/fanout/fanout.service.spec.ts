import { FEED_JOBS, type FanoutChunkJob, type FanoutJob, QUEUES } from '@murmur/contracts';
import { InMemoryJobQueue } from '@murmur/queue';
import type { FanoutRepository, FollowersPage } from './fanout.repository';
import {
  asFanoutProgress,
  fanoutChunkId,
  type FanoutOptions,
  type FanoutProgress,
  type FanoutRun,
  FanoutService,
} from './fanout.service';

type Calls = Array<[string, ...unknown[]]>;

/**
 * The feed's Redis as far as a post job goes: a followers set scanned in pages the way SSCAN
 * does it (the cursor is an offset here; a page can hold more than `count`, as SSCAN's can).
 */
class FakeFanoutRepository implements Pick<
  FanoutRepository,
  'addAuthored' | 'pushToTimelines' | 'followersPage'
> {
  readonly calls: Calls = [];

  constructor(
    private readonly followers: string[],
    private readonly overshoot = 0,
  ) {}

  addAuthored(...args: [string, string, number, number, boolean]): Promise<void> {
    this.calls.push(['addAuthored', ...args]);
    return Promise.resolve();
  }

  pushToTimelines(...args: [string[], string, number, number]): Promise<number> {
    this.calls.push(['pushToTimelines', ...args]);
    return Promise.resolve(args[0].length);
  }

  followersPage(userId: string, cursor: string, count: number): Promise<FollowersPage> {
    this.calls.push(['followersPage', cursor]);
    const from = Number(cursor);
    const to = from + count + this.overshoot;
    return Promise.resolve({
      cursor: to >= this.followers.length ? '0' : String(to),
      members: this.followers.slice(from, to),
    });
  }
}

/** The feed queue in memory (a second job with a kept id is not added), seen as chunk jobs. */
class FakeQueue extends InMemoryJobQueue<typeof QUEUES.feed> {
  constructor() {
    super(QUEUES.feed);
  }

  /** the chunk jobs kept, by job id; a fan-out queues nothing else */
  get added(): Map<string, FanoutChunkJob> {
    const chunks = new Map<string, FanoutChunkJob>();
    for (const job of this.jobs) {
      if (job.name !== FEED_JOBS.fanoutChunk) {
        throw new Error(`unexpected job ${job.name}`);
      }
      chunks.set(String(job.opts?.jobId), job.data);
    }
    return chunks;
  }

  followersQueued(): string[] {
    return [...this.added.values()].flatMap((c) => c.followerIds);
  }
}

/** A post job's run; `crashOnSave` makes the n-th progress save throw once (the worker dies). */
class FakeRun implements FanoutRun {
  readonly saved: FanoutProgress[] = [];

  constructor(
    public progress: FanoutProgress | undefined = undefined,
    private crashOnSave = 0,
    readonly id = 'evt-shard-0-42',
  ) {}

  saveProgress(progress: FanoutProgress): Promise<void> {
    if (this.saved.length + 1 === this.crashOnSave) {
      this.crashOnSave = 0;
      return Promise.reject(new Error('worker killed'));
    }
    this.saved.push(progress);
    this.progress = progress;
    return Promise.resolve();
  }
}

const post: FanoutJob = { postId: '900', authorId: '1', createdAt: 1_800_000_000_000 };
const users = (n: number): string[] => Array.from({ length: n }, (_, i) => String(1_000 + i));
const options = (o: Partial<FanoutOptions> = {}): FanoutOptions => ({
  timelineMax: 800,
  fanoutOnWrite: true,
  chunkSize: 1_000,
  ...o,
});

describe(FanoutService.name, () => {
  const setup = (followers: string[], o: Partial<FanoutOptions> = {}, overshoot = 0) => {
    const repo = new FakeFanoutRepository(followers, overshoot);
    const queue = new FakeQueue();
    const sut = new FanoutService(repo as unknown as FanoutRepository, queue, options(o));
    return { repo, queue, sut };
  };

  it('pushes a post to an audience that fits one chunk itself, queueing no chunk job', async () => {
    const followers = users(1_000); // eight pages of 125
    const { repo, queue, sut } = setup(followers);
    const run = new FakeRun();
    await expect(sut.fanout(post, run)).resolves.toEqual({ delivered: 1_000, chunks: 0 });
    expect(repo.calls).toEqual([
      ['addAuthored', '1', '900', post.createdAt, 800, true],
      ...[0, 125, 250, 375, 500, 625, 750, 875].map((c) => ['followersPage', String(c)]),
      ['pushToTimelines', followers, '900', post.createdAt, 800],
    ]);
    expect(queue.adds).toBe(0);
    expect(run.saved).toEqual([]);
  });

  it('with fan-out off, only records the post in its author list and reaches no follower', async () => {
    const { repo, queue, sut } = setup(users(5_000), { fanoutOnWrite: false });
    await expect(sut.fanout(post, new FakeRun())).resolves.toEqual({ delivered: 0, chunks: 0 });
    expect(repo.calls).toEqual([['addAuthored', '1', '900', post.createdAt, 800, false]]);
    expect(queue.adds).toBe(0);
  });

  it('queues a large audience as chunk jobs of whole pages, at most the chunk size, each follower once', async () => {
    // SSCAN pages of a little over COUNT (here 50 + 7): a chunk takes pages while they fit.
    const followers = users(2_500);
    const { repo, queue, sut } = setup(followers, { chunkSize: 400 }, 7);
    const run = new FakeRun();
    await expect(sut.fanout(post, run)).resolves.toEqual({ delivered: 0, chunks: 7 });

    const chunks = [...queue.added.values()];
    expect(chunks.map((c) => c.followerIds.length)).toEqual([399, 399, 399, 399, 399, 399, 106]);
    chunks.forEach((c) => expect(c).toMatchObject(post));
    expect(queue.followersQueued()).toEqual(followers);
    expect([...queue.added.keys()]).toEqual(chunks.map((_, n) => fanoutChunkId(run.id, n)));
    // The post job itself writes only the author's list and timeline.
    expect(repo.calls.filter(([name]) => name === 'pushToTimelines')).toEqual([]);
    // Saved with each chunk: where the next one starts (a finished scan has nothing to resume).
    expect(run.saved).toEqual(
      [399, 798, 1197, 1596, 1995, 2394].map((cursor, i) => ({
        cursor: String(cursor),
        chunk: i + 1,
      })),
    );
  });

  it('cuts a single page larger than a chunk (a small set returned whole) into even chunks', async () => {
    const followers = users(300);
    const { queue, sut } = setup(followers, { chunkSize: 100 }, 1_000);
    await expect(sut.fanout(post, new FakeRun())).resolves.toEqual({ delivered: 0, chunks: 3 });
    expect([...queue.added.values()].map((c) => c.followerIds.length)).toEqual([100, 100, 100]);
    expect(queue.followersQueued()).toEqual(followers);
  });

  it('resumes a re-run from the saved cursor and chunk number instead of starting over', async () => {
    const followers = users(2_500);
    const { repo, queue, sut } = setup(followers);
    const run = new FakeRun({ cursor: '2000', chunk: 2 });
    await expect(sut.fanout(post, run)).resolves.toEqual({ delivered: 0, chunks: 3 });
    const pages = repo.calls.filter(([name]) => name === 'followersPage');
    expect(pages[0]).toEqual(['followersPage', '2000']);
    expect(pages).not.toContainEqual(['followersPage', '0']);
    expect([...queue.added.keys()]).toEqual([fanoutChunkId(run.id, 2)]);
    expect(queue.followersQueued()).toEqual(followers.slice(2_000));
  });

  it('after a crash mid-scan, queues again only the chunk it was cutting: the same chunks as a clean run', async () => {
    const followers = users(5_000);
    const clean = setup(followers, { chunkSize: 500 });
    await clean.sut.fanout(post, new FakeRun());

    const { queue, sut } = setup(followers, { chunkSize: 500 });
    // The worker dies saving its progress with the third chunk (three chunks queued).
    const run = new FakeRun(undefined, 3);
    await expect(sut.fanout(post, run)).rejects.toThrow('worker killed');
    expect(queue.added.size).toBe(3);
    expect(run.saved.map((p) => p.chunk)).toEqual([1, 2]);

    // The stalled job runs again with the progress it had saved.
    const before = queue.adds;
    await expect(sut.fanout(post, run)).resolves.toEqual({
      delivered: 0,
      chunks: clean.queue.added.size,
    });
    expect(queue.adds - before).toBe(clean.queue.added.size - 2); // chunk 2 again, then on
    expect(queue.added).toEqual(clean.queue.added);
    expect(queue.followersQueued()).toEqual(followers);
  });

  it('pushes a chunk into the timelines it names, and none once fan-out is switched off', async () => {
    const chunk: FanoutChunkJob = { ...post, followerIds: ['7', '8'] };
    const on = setup([]);
    await expect(on.sut.fanoutChunk(chunk)).resolves.toBe(2);
    expect(on.repo.calls).toEqual([['pushToTimelines', ['7', '8'], '900', post.createdAt, 800]]);
    const off = setup([], { fanoutOnWrite: false });
    await expect(off.sut.fanoutChunk(chunk)).resolves.toBe(0);
    expect(off.repo.calls).toEqual([]);
  });

  it.each([
    [
      { cursor: '17', chunk: 3 },
      { cursor: '17', chunk: 3 },
    ],
    [0, undefined],
    [{ cursor: 17, chunk: 3 }, undefined],
    [{ cursor: '17' }, undefined],
    [null, undefined],
  ])('reads saved progress %j as %j', (saved, expected) => {
    expect(asFanoutProgress(saved)).toEqual(expected);
  });
});
