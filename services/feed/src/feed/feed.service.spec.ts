import type { GrpcPost } from '@murmur/contracts';
import type { TimelineEntry } from './feed-page';
import { FeedService } from './feed.service';
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
  calls = 0;
  getPosts(ids: string[]): Promise<GrpcPost[]> {
    this.calls++;
    if (this.failing) {
      return Promise.reject(this.failing);
    }
    return Promise.resolve(
      ids.map((id) => ({ id, authorId: '1', text: `post ${id}`, createdAt: '', likeCount: 1 })),
    );
  }
}

describe(FeedService.name, () => {
  const entries = ['30', '20', '10'].map((postId, i) => ({ postId, score: 3000 - i }));
  let posts: FakePostClient;
  let sut: FeedService;

  beforeEach(() => {
    posts = new FakePostClient();
    sut = new FeedService(new FakeTimelines(entries), posts as unknown as PostClient);
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
