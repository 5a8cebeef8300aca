import { z } from 'zod';

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

/**
 * A cached profile as read back from L2: anyone who can write to the cache store could put
 * anything there, so each entry is checked against this before it is served (`@murmur/cache`).
 */
export const profileSchema: z.ZodType<Profile> = z.object({
  id: z.string().regex(/^\d+$/),
  // Types, not the sign-up rules: the table does not enforce those, and a row that predates a
  // rule must still be cacheable.
  username: z.string(),
  displayName: z.string(),
  bio: z.string(),
  followerCount: z.number().int().nonnegative(),
  followingCount: z.number().int().nonnegative(),
  createdAt: z.iso.datetime(),
  version: z.number().int().nonnegative(),
});

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
