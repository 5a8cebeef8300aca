import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { feedTimelineReadSeconds } from '@murmur/observability';
import { type FeedResponse, toFeedItem } from './dto/feed.response';
import { decodeCursor, encodeCursor } from './feed-cursor';
import { FeedError, FeedErrorCode } from './feed.errors';
import { PostClient, PostServiceUnavailable } from './post.client';
import { TIMELINE_SOURCE, type TimelineSource } from './timeline-source';

@Injectable()
export class FeedService implements OnApplicationBootstrap {
  private readonly logger = new Logger(FeedService.name);

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
   * one call.
   */
  async page(userId: string, limit: number, cursor?: string): Promise<FeedResponse> {
    const before = cursor === undefined ? undefined : decodeCursor(cursor);
    if (cursor !== undefined && before === undefined) {
      throw new FeedError(FeedErrorCode.InvalidCursor, 'The cursor is not valid.');
    }
    const endTimer = feedTimelineReadSeconds.startTimer({ mode: this.timelines.mode });
    const entries = await this.timelines.page(userId, limit, before);
    endTimer();
    let posts;
    try {
      posts = await this.posts.getPosts(entries.map((e) => e.postId));
    } catch (error) {
      if (error instanceof PostServiceUnavailable) {
        throw new FeedError(
          FeedErrorCode.PostsUnavailable,
          'Posts cannot be loaded right now; try again shortly.',
          2,
        );
      }
      throw error;
    }
    const last = entries.at(-1);
    return {
      items: posts.map(toFeedItem),
      nextCursor: entries.length === limit && last ? encodeCursor(last) : null,
    };
  }
}
