/** A user as stored (main cluster, `users`). */
export interface UserRow {
  id: string;
  username: string;
  email: string;
  password_hash: string;
  display_name: string;
  bio: string;
  follower_count: number;
  following_count: number;
  created_at: Date;
  updated_at: Date;
}

/** What the profile cache holds: public fields only, and a version for write-through ordering. */
export interface Profile {
  id: string;
  username: string;
  displayName: string;
  bio: string;
  followerCount: number;
  followingCount: number;
  createdAt: string;
  /** updated_at in epoch ms */
  version: number;
}

export function toProfile(row: UserRow): Profile {
  return {
    id: String(row.id),
    username: row.username,
    displayName: row.display_name,
    bio: row.bio,
    followerCount: row.follower_count,
    followingCount: row.following_count,
    createdAt: row.created_at.toISOString(),
    version: row.updated_at.getTime(),
  };
}
