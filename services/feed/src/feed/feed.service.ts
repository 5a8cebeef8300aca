import { Inject, Injectable } from '@nestjs/common';
import { type FeedResponse, toFeedItem } from './dto/feed.response';
import { decodeCursor, encodeCursor } from './feed-cursor';
import { FeedError, FeedErrorCode } from './feed.errors';
import { PostClient, PostServiceUnavailable } from './post.client';
import { TimelineRepository } from './timeline.repository';

@Injectable()
export class FeedService {
  constructor(
    @Inject(TimelineRepository) private readonly timelines: TimelineRepository,
    @Inject(PostClient) private readonly posts: PostClient,
  ) {}

  /** A page of the home timeline: ids from Redis, posts from the post service in one call. */
  async page(userId: string, limit: number, cursor?: string): Promise<FeedResponse> {
    const before = cursor === undefined ? undefined : decodeCursor(cursor);
    if (cursor !== undefined && before === undefined) {
      throw new FeedError(FeedErrorCode.InvalidCursor, 'The cursor is not valid.');
    }
    const entries = await this.timelines.page(userId, limit, before);
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
