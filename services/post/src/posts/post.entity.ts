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

export function toPost(row: PostRow): Post {
  return {
    id: row.id,
    authorId: row.author_id,
    text: row.text,
    likeCount: row.like_count,
    createdAt: row.created_at.toISOString(),
  };
}
