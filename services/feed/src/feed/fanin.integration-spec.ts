import { type FanoutJob, type GrpcPost, QUEUES } from '@murmur/contracts';
import { InMemoryJobQueue } from '@murmur/queue';
import { testTopology } from '@murmur/testing';
import { Redis } from 'ioredis';
import { FanoutRepository } from '../fanout/fanout.repository';
import { type FanoutRun, FanoutService } from '../fanout/fanout.service';
import type { FeedResponse } from './dto/feed.response';
import { FaninRepository } from './fanin.repository';
import { authoredKey, followersKey, followingKey, timelineKey } from './feed-keys';
import { FeedService } from './feed.service';
import { HydratedPosts } from './hydrated-posts';
import type { PostClient } from './post.client';
import type { TimelineSource } from './timeline-source';
import { TimelineRepository } from './timeline.repository';

const TIMELINE_MAX = 800;

/** The post service's part, answered from the posts this test made (Redis stays real). */
class KnownPosts implements Pick<PostClient, 'getPosts'> {
  readonly byId = new Map<string, FanoutJob>();

  getPosts(ids: string[]): Promise<GrpcPost[]> {
    return Promise.resolve(
      ids.map((id) => {
        const job = this.byId.get(id) as FanoutJob;
        return {
          id,
          authorId: job.authorId,
          text: `post ${id}`,
          createdAt: new Date(job.createdAt).toISOString(),
          likeCount: 0,
        };
      }),
    );
  }
}

/** Against the test stack's real data Redis: fan-in pages equal fan-out timelines. */
describe(`${FaninRepository.name} (real Redis)`, () => {
  const node = testTopology().redis.find((r) => r.purpose === 'queue');
  const redis = new Redis(node?.port ?? 0, '127.0.0.1');
  const posts = new KnownPosts();
  const worker = new FanoutRepository(redis);
  // Audiences here fit one chunk: a post job pushes them itself and never queues a chunk job.
  const noChunks = new InMemoryJobQueue(QUEUES.feed);
  noChunks.failing = new Error('no chunk jobs expected');
  const options = (fanoutOnWrite: boolean) => ({
    timelineMax: TIMELINE_MAX,
    fanoutOnWrite,
    chunkSize: 1_000,
  });
  const fanOutWorker = new FanoutService(worker, noChunks, options(true));
  const fanInWorker = new FanoutService(worker, noChunks, options(false));
  const run = (job: FanoutJob): FanoutRun => ({
    id: `fanout-${job.postId}`,
    progress: undefined,
    saveProgress: () => Promise.resolve(),
  });
  const feedFrom = (source: TimelineSource): FeedService =>
    new FeedService(source, posts as unknown as PostClient, new HydratedPosts({ freshMs: 0 }));
  const timelineFeed = feedFrom(
    new TimelineRepository(redis, {
      timelineMax: TIMELINE_MAX,
      idleTtlSeconds: 0,
      maxFollowees: 1_000,
    }),
  );
  const faninFeed = feedFrom(new FaninRepository(redis, 1_000));

  // Numeric ids unique to this run, so reruns against a kept stack start clean.
  const base = 7_000_000_000 + (Date.now() % 1_000_000) * 1_000;
  const user = (n: number): string => String(base + n);
  const reader = user(1);
  const [a, b, c, stranger] = [user(2), user(3), user(4), user(5)];
  const keys = new Set<string>();
  let nextPostId = BigInt(base) * 1_000_000n;
  const t0 = 1_800_000_000_000;

  const post = (authorId: string, createdAt: number): FanoutJob => {
    nextPostId += 1n + BigInt(Number(nextPostId % 3n));
    const job = { postId: String(nextPostId), authorId, createdAt };
    posts.byId.set(job.postId, job);
    return job;
  };
  const follow = async (followerId: string, followeeId: string): Promise<void> => {
    keys.add(followersKey(followeeId)).add(followingKey(followerId));
    await fanOutWorker.follow({ followerId, followeeId });
  };

  /** Every page of a reader's feed, following nextCursor until it is null. */
  const allPages = async (feed: FeedService, userId: string, limit: number) => {
    const pages: FeedResponse[] = [];
    let cursor: string | undefined;
    do {
      const page = await feed.page(userId, limit, cursor);
      pages.push(page);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && pages.length < 100);
    return pages;
  };
  const ids = (pages: FeedResponse[]): string[] => pages.flatMap((p) => p.items.map((i) => i.id));
  const newestFirst = (jobs: FanoutJob[]): string[] =>
    [...jobs]
      .sort((x, y) => y.createdAt - x.createdAt || (BigInt(y.postId) > BigInt(x.postId) ? 1 : -1))
      .map((j) => j.postId);

  const jobs: FanoutJob[] = [];

  beforeAll(async () => {
    await follow(reader, a);
    await follow(reader, b);
    await follow(reader, c);
    await follow(stranger, a);
    // 60 posts over 12 distinct ms: many ties inside one ms, across and within authors.
    for (let i = 0; i < 60; i++) {
      const author = [reader, a, b, c, stranger][i % 5];
      jobs.push(post(author, t0 + Math.floor(i / 5) * 1_000 + (i % 2)));
    }
    for (const u of [reader, a, b, c, stranger]) {
      keys.add(timelineKey(u)).add(authoredKey(u));
      // Each reads their (empty) feed first: their timelines are materialised, so the fan-out
      // below pushes into them (timeline.repository.integration-spec covers the unread case).
      await expect(timelineFeed.page(u, 20)).resolves.toEqual({ items: [], nextCursor: null });
    }
    for (const job of jobs) {
      await fanOutWorker.fanout(job, run(job));
    }
  });

  afterAll(async () => {
    await redis.del(...keys);
    await redis.quit();
  });

  it('keeps the follow graph in both directions', async () => {
    expect((await redis.smembers(followingKey(reader))).sort()).toEqual([a, b, c].sort());
    expect((await redis.smembers(followersKey(a))).sort()).toEqual([reader, stranger].sort());
  });

  it('writes each author list once: a redelivered job changes nothing', async () => {
    const snapshot = () =>
      Promise.all(
        [reader, a, stranger].flatMap((u) => [
          redis.zrange(authoredKey(u), 0, -1, 'WITHSCORES'),
          redis.zrange(timelineKey(u), 0, -1, 'WITHSCORES'),
        ]),
      );
    const before = await snapshot();
    expect(before[0]).toHaveLength(2 * 12); // the reader wrote 12 of the 60 posts
    // the reader's timeline: the 48 posts of the reader, a, b and c, and the empty one's sentinel
    expect(before[1]).toHaveLength(2 * 49);
    for (const job of jobs.slice(0, 20)) {
      await fanOutWorker.fanout(job, run(job));
    }
    expect(await snapshot()).toEqual(before);
  });

  it('serves the same pages and cursors in fan-in as the fan-out timeline, page by page', async () => {
    const expected = newestFirst(jobs.filter((j) => j.authorId !== stranger));
    for (const limit of [1, 7, 20, 100]) {
      const fanOut = await allPages(timelineFeed, reader, limit);
      const fanIn = await allPages(faninFeed, reader, limit);
      expect(ids(fanOut)).toEqual(expected);
      expect(fanIn).toEqual(fanOut);
    }
  });

  it('with fan-out off, a new post reaches readers through its author list only', async () => {
    const late = post(a, t0 + 100_000);
    jobs.push(late);
    await expect(fanInWorker.fanout(late, run(late))).resolves.toEqual({ delivered: 0, chunks: 0 });
    await expect(redis.zscore(timelineKey(reader), late.postId)).resolves.toBeNull();
    await expect(redis.zscore(timelineKey(a), late.postId)).resolves.toBeNull();
    await expect(redis.zscore(authoredKey(a), late.postId)).resolves.toBe(String(late.createdAt));
    const [first] = await allPages(faninFeed, reader, 3);
    expect(first.items.map((i) => i.id)).toEqual([
      late.postId,
      ...newestFirst(jobs.filter((j) => j.authorId !== stranger)).slice(1, 3),
    ]);
    await expect(faninFeed.page(stranger, 1)).resolves.toMatchObject({
      items: [{ id: late.postId, authorId: a }],
    });
  });

  it('drops an unfollowed author from fan-in pages at once', async () => {
    await fanOutWorker.unfollow({ followerId: reader, followeeId: b });
    await expect(redis.sismember(followingKey(reader), b)).resolves.toBe(0);
    await expect(redis.sismember(followersKey(b), reader)).resolves.toBe(0);
    const fanIn = await allPages(faninFeed, reader, 7);
    expect(fanIn.flatMap((p) => p.items.map((i) => i.authorId))).not.toContain(b);
    expect(ids(fanIn)).toEqual(
      newestFirst(jobs.filter((j) => j.authorId !== stranger && j.authorId !== b)),
    );
  });

  it('with fan-out on, an unfollow prunes the timeline and a follow backfills it', async () => {
    // b was unfollowed through the fan-out worker above; `late` was written in fan-in mode.
    const late = jobs[jobs.length - 1];
    const timeline = async (): Promise<string[]> => ids(await allPages(timelineFeed, reader, 50));
    const visible = (j: FanoutJob): boolean => j !== late && j.authorId !== stranger;
    expect(await timeline()).toEqual(
      newestFirst(jobs.filter((j) => visible(j) && j.authorId !== b)),
    );
    await follow(reader, b);
    expect(await timeline()).toEqual(newestFirst(jobs.filter(visible)));
    // both are idempotent: a redelivered job changes nothing
    await follow(reader, b);
    expect(await timeline()).toEqual(newestFirst(jobs.filter(visible)));
    await fanOutWorker.unfollow({ followerId: reader, followeeId: b });
    await fanOutWorker.unfollow({ followerId: reader, followeeId: b });
    expect(await timeline()).toEqual(
      newestFirst(jobs.filter((j) => visible(j) && j.authorId !== b)),
    );
  });

  it('reads at most FANIN_MAX_FOLLOWEES followees, the same ones on every page', async () => {
    const many = user(10);
    const followees = [user(11), user(12), user(13), user(14)];
    for (const f of followees) {
      await follow(many, f);
      keys.add(authoredKey(f)).add(timelineKey(f));
    }
    keys.add(timelineKey(many)).add(authoredKey(many));
    const mine: FanoutJob[] = [];
    for (let i = 0; i < 40; i++) {
      const job = post([many, ...followees][i % 5], t0 + 200_000 + i);
      mine.push(job);
      await fanInWorker.fanout(job, run(job));
    }
    const bounded = feedFrom(new FaninRepository(redis, 2));
    const seen = new Set(
      (await allPages(bounded, many, 3)).flatMap((p) => p.items.map((i) => i.authorId)),
    );
    // A small set of integer ids is an intset: SSCAN returns it in order, so the lowest ids.
    expect([...seen].sort()).toEqual([many, user(11), user(12)].sort());
    expect(ids(await allPages(bounded, many, 3))).toEqual(
      newestFirst(mine.filter((j) => seen.has(j.authorId))),
    );
  });
});
