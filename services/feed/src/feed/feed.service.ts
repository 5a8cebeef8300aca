import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { cacheRequestsTotal } from '@murmur/cache';
import type { GrpcPost } from '@murmur/contracts';
import { type FeedResponse, toFeedItem } from './dto/feed.response';
import { feedPartialPagesTotal, feedTimelineReadSeconds } from './feed.metrics';
import { decodeCursor, encodeCursor } from './feed-cursor';
import { FeedError, FeedErrorCode } from './feed.errors';
import { HydratedPosts } from './hydrated-posts';
import { PostClient, PostServiceUnavailable } from './post.client';
import { TIMELINE_SOURCE, type TimelineSource } from './timeline-source';

export const HYDRATED_POSTS = Symbol('HYDRATED_POSTS');

/** The hydrated posts' L1, in the shared cache metrics (`murmur_cache_requests_total`). */
const L1 = { cache: 'feed-posts', layer: 'l1' } as const;

@Injectable()
export class FeedService implements OnApplicationBootstrap {
  private readonly logger = new Logger(FeedService.name);

  constructor(
    @Inject(TIMELINE_SOURCE) private readonly timelines: TimelineSource,
    @Inject(PostClient) private readonly posts: PostClient,
    @Inject(HYDRATED_POSTS) private readonly hydrated: HydratedPosts,
  ) {}

  onApplicationBootstrap(): void {
    this.logger.log(`feed mode: ${this.timelines.describe()}`);
  }

  /**
   * A page of the home timeline: post ids from Redis (one timeline, or merged from the followees'
   * lists in fan-in mode; the same order and cursors either way), then the posts: those this
   * process hydrated less than FEED_POST_CACHE_TTL_MS ago from its own memory, the rest from the
   * post service in one call (none when all are fresh, so a hot page costs no hop). When that
   * call fails or misses its deadline (or its breaker is open) the page is served from the posts
   * this process last saw, marked partial, instead of a 503: a feed that degrades keeps users
   * scrolling while the post service recovers.
   */
  async page(userId: string, limit: number, cursor?: string): Promise<FeedResponse> {
    const before = cursor === undefined ? undefined : decodeCursor(cursor);
    if (cursor !== undefined && before === undefined) {
      throw new FeedError(FeedErrorCode.InvalidCursor, 'The cursor is not valid.');
    }
    const endTimer = feedTimelineReadSeconds.startTimer({ mode: this.timelines.mode });
    const entries = await this.timelines.page(userId, limit, before);
    endTimer();
    const ids = entries.map((e) => e.postId);
    const last = entries.at(-1);
    const nextCursor = entries.length === limit && last ? encodeCursor(last) : null;
    try {
      const posts = await this.hydrate(ids);
      return { items: posts.map(toFeedItem), nextCursor };
    } catch (error) {
      if (!(error instanceof PostServiceUnavailable)) {
        throw error;
      }
      const { found, missing } = this.hydrated.recall(ids);
      feedPartialPagesTotal.inc({ reason: error.reason });
      return { items: found.map(toFeedItem), nextCursor, partial: true, missingIds: missing };
    }
  }

  /** The posts of `ids` in their order, unknown ids left out. */
  private async hydrate(ids: string[]): Promise<GrpcPost[]> {
    const { found, missing } = this.hydrated.fresh(ids);
    cacheRequestsTotal.inc({ ...L1, result: 'hit' }, found.size);
    if (missing.length > 0) {
      cacheRequestsTotal.inc({ ...L1, result: 'miss' }, missing.length);
      const fetched = await this.posts.getPosts(missing);
      this.hydrated.remember(fetched);
      for (const post of fetched) {
        found.set(post.id, post);
      }
    }
    return ids.map((id) => found.get(id)).filter((p): p is GrpcPost => p !== undefined);
  }
}
