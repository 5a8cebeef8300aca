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
