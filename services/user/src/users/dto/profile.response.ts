import type { Profile } from '../user.entity';

export interface CreatedUserResponse {
  id: string;
  username: string;
}

export interface ProfileResponse {
  id: string;
  username: string;
  displayName: string;
  bio: string;
  followerCount: number;
  followingCount: number;
  createdAt: string;
}

export function toProfileResponse(p: Profile): ProfileResponse {
  return {
    id: p.id,
    username: p.username,
    displayName: p.displayName,
    bio: p.bio,
    followerCount: p.followerCount,
    followingCount: p.followingCount,
    createdAt: p.createdAt,
  };
}
