import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { type FeedResponse, toFeedItem } from './dto/feed.response';
import { feedPartialPagesTotal, feedTimelineReadSeconds } from './feed.metrics';
import { decodeCursor, encodeCursor } from './feed-cursor';
import { FeedError, FeedErrorCode } from './feed.errors';
import { LastKnownPosts } from './last-known-posts';
import { PostClient, PostServiceUnavailable } from './post.client';
import { TIMELINE_SOURCE, type TimelineSource } from './timeline-source';

@Injectable()
export class FeedService implements OnApplicationBootstrap {
  private readonly logger = new Logger(FeedService.name);
  private readonly lastKnown = new LastKnownPosts();

  constructor(
    @Inject(TIMELINE_SOURCE) private readonly timelines: TimelineSource,
    @Inject(PostClient) private readonly posts: PostClient,
  ) {}

  onApplicationBootstrap(): void {
    this.logger.log(`feed mode: ${this.timelines.describe()}`);
  }

  /**
   * A page of the home timeline: post ids from Redis (one timeline, or merged from the followees'
   * lists in fan-in mode; the same order and cursors either way), posts from the post service in
   * one call. When that call fails or misses its deadline (or its breaker is open) the page is
   * served from the posts this process last saw, marked partial, instead of a 503: a feed that
   * degrades keeps users scrolling while the post service recovers.
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
      const posts = await this.posts.getPosts(ids);
      this.lastKnown.remember(posts);
      return { items: posts.map(toFeedItem), nextCursor };
    } catch (error) {
      if (!(error instanceof PostServiceUnavailable)) {
        throw error;
      }
      const { found, missing } = this.lastKnown.recall(ids);
      feedPartialPagesTotal.inc({ reason: error.reason });
      return { items: found.map(toFeedItem), nextCursor, partial: true, missingIds: missing };
    }
  }
}
