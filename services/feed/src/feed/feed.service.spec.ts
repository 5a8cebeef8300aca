import type { GrpcPost } from '@murmur/contracts';
import type { TimelineEntry } from './feed-page';
import { FeedService } from './feed.service';
import { HydratedPosts } from './hydrated-posts';
import { type PostClient, PostServiceUnavailable } from './post.client';
import type { TimelineSource } from './timeline-source';

class FakeTimelines implements TimelineSource {
  readonly mode = 'fan-out' as const;
  constructor(private readonly entries: TimelineEntry[]) {}
  describe(): string {
    return 'fake';
  }
  page(_userId: string, limit: number): Promise<TimelineEntry[]> {
    return Promise.resolve(this.entries.slice(0, limit));
  }
}

class FakePostClient {
  failing: PostServiceUnavailable | undefined;
  asked: string[][] = [];
  likeCount = 1;
  /** ids the post service does not know */
  unknown = new Set<string>();
  get calls(): number {
    return this.asked.length;
  }
  getPosts(ids: string[]): Promise<GrpcPost[]> {
    this.asked.push(ids);
    if (this.failing) {
      return Promise.reject(this.failing);
    }
    return Promise.resolve(
      ids
        .filter((id) => !this.unknown.has(id))
        .map((id) => ({
          id,
          authorId: '1',
          text: `post ${id}`,
          createdAt: '',
          likeCount: this.likeCount,
        })),
    );
  }
}

describe(FeedService.name, () => {
  const entries = ['30', '20', '10'].map((postId, i) => ({ postId, score: 3000 - i }));
  let posts: FakePostClient;
  let sut: FeedService;
  let clock: number;
  const make = (freshMs: number, timeline = entries): FeedService =>
    new FeedService(
      new FakeTimelines(timeline),
      posts as unknown as PostClient,
      new HydratedPosts({ freshMs, now: () => clock }),
    );

  beforeEach(() => {
    clock = 1_000_000;
    posts = new FakePostClient();
    sut = make(0);
  });

  it('hydrates a page through the post service, with no partial mark', async () => {
    const page = await sut.page('7', 3);
    expect(page.items.map((p) => p.id)).toEqual(['30', '20', '10']);
    expect(page.partial).toBeUndefined();
    expect(page.nextCursor).not.toBeNull();
  });

  it('serves the posts it last saw, marked partial, when the post service cannot answer', async () => {
    await sut.page('7', 2); // sees 30 and 20
    posts.failing = new PostServiceUnavailable('circuit open', 'circuit_open');
    const page = await sut.page('7', 3);
    expect(page).toMatchObject({ partial: true, missingIds: ['10'] });
    expect(page.items.map((p) => p.id)).toEqual(['30', '20']);
    // the same cursor as a full page: paging goes on past the degraded page
    expect(page.nextCursor).toBe((await withHealthy(posts, () => sut.page('7', 3))).nextCursor);
  });

  it('answers a cold page with ids only rather than failing it', async () => {
    posts.failing = new PostServiceUnavailable('deadline', 'call_failed');
    await expect(sut.page('7', 3)).resolves.toMatchObject({
      items: [],
      partial: true,
      missingIds: ['30', '20', '10'],
    });
  });

  describe('with the L1 of hydrated posts (FEED_POST_CACHE_TTL_MS)', () => {
    beforeEach(() => {
      sut = make(2_000);
    });

    it('fills a page it hydrated less than the TTL ago without calling the post service', async () => {
      await sut.page('7', 3);
      posts.likeCount = 9;
      clock += 1_999;
      const page = await sut.page('7', 3);
      expect(posts.calls).toBe(1);
      expect(page.items.map((p) => [p.id, p.likeCount])).toEqual([
        ['30', 1],
        ['20', 1],
        ['10', 1],
      ]);
      // at the TTL the counts are asked for again: that is how far behind they may be
      clock += 1;
      expect((await sut.page('7', 3)).items.map((p) => p.likeCount)).toEqual([9, 9, 9]);
      expect(posts.calls).toBe(2);
    });

    it('asks only for the posts it does not hold fresh, and keeps the timeline order', async () => {
      await sut.page('7', 2); // 30 and 20
      const page = await sut.page('7', 3);
      expect(posts.asked).toEqual([['30', '20'], ['10']]);
      expect(page.items.map((p) => p.id)).toEqual(['30', '20', '10']);
      expect(page.partial).toBeUndefined();
    });

    it('leaves out ids the post service does not know, and asks for them again', async () => {
      posts.unknown.add('20');
      expect((await sut.page('7', 3)).items.map((p) => p.id)).toEqual(['30', '10']);
      expect((await sut.page('7', 3)).items.map((p) => p.id)).toEqual(['30', '10']);
      expect(posts.asked).toEqual([['30', '20', '10'], ['20']]);
    });

    it('still serves stale posts, marked partial, when the post service cannot answer', async () => {
      await sut.page('7', 3);
      clock += 60_000;
      posts.failing = new PostServiceUnavailable('deadline', 'call_failed');
      await expect(sut.page('7', 3)).resolves.toMatchObject({ partial: true, missingIds: [] });
    });
  });

  it('asks the post service for every page when the L1 is off (TTL 0)', async () => {
    await sut.page('7', 3);
    await sut.page('7', 3);
    expect(posts.calls).toBe(2);
  });

  it('does not hide bugs: an unexpected error still fails the request', async () => {
    posts.failing = new TypeError('boom') as unknown as PostServiceUnavailable;
    await expect(sut.page('7', 3)).rejects.toThrow('boom');
  });
});

async function withHealthy<T>(posts: FakePostClient, run: () => Promise<T>): Promise<T> {
  const failing = posts.failing;
  posts.failing = undefined;
  try {
    return await run();
  } finally {
    posts.failing = failing;
  }
}
