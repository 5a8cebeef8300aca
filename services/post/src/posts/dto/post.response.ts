import type { Post } from '../post.entity';

export interface PostResponse {
  id: string;
  authorId: string;
  text: string;
  createdAt: string;
  likeCount: number;
}

export function toPostResponse(p: Post): PostResponse {
  return {
    id: p.id,
    authorId: p.authorId,
    text: p.text,
    createdAt: p.createdAt,
    likeCount: p.likeCount,
  };
}
