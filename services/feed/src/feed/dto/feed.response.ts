import type { GrpcPost } from '@murmur/contracts';

export interface FeedItemResponse {
  id: string;
  authorId: string;
  text: string;
  createdAt: string;
  likeCount: number;
}

export interface FeedResponse {
  items: FeedItemResponse[];
  nextCursor: string | null;
  /**
   * Present and true when the post service could not be asked in time: `items` are the posts
   * this process last saw (like counts may be behind) and `missingIds` the page's posts it has
   * not got. The cursor is the same as for a full page, so paging goes on.
   */
  partial?: true;
  missingIds?: string[];
}

export function toFeedItem(p: GrpcPost): FeedItemResponse {
  return {
    id: p.id,
    authorId: p.authorId,
    text: p.text,
    createdAt: p.createdAt,
    likeCount: p.likeCount,
  };
}
