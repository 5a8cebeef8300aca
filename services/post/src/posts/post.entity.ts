import { z } from 'zod';

export interface PostRow {
  id: string;
  author_id: string;
  text: string;
  like_count: number;
  created_at: Date;
}

export interface Post {
  id: string;
  authorId: string;
  text: string;
  likeCount: number;
  createdAt: string;
}

/** A cached post as read back from L2, checked before it is served (see `@murmur/cache`). */
export const postSchema: z.ZodType<Post> = z.object({
  id: z.string().regex(/^\d+$/),
  authorId: z.string().regex(/^\d+$/),
  text: z.string(),
  likeCount: z.number().int().nonnegative(),
  createdAt: z.iso.datetime(),
});

export function toPost(row: PostRow): Post {
  return {
    id: row.id,
    authorId: row.author_id,
    text: row.text,
    likeCount: row.like_count,
    createdAt: row.created_at.toISOString(),
  };
}
