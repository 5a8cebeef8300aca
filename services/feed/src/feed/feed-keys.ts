/**
 * The feed's keys in the data Redis. Written by the feed worker (and the seeder), read by the
 * feed API. `feed:following:*` and `feed:authored:*` are kept in both modes, so switching
 * `FANOUT_ON_WRITE` needs no rebuild.
 */

/** sorted set: post ids of the user's home timeline by created-at ms (fan-out on write) */
export const timelineKey = (userId: string): string => `timeline:${userId}`;

/** set: who follows the user (fan-out pushes to them) */
export const followersKey = (userId: string): string => `feed:followers:${userId}`;

/** set: whom the user follows (fan-in reads their posts) */
export const followingKey = (userId: string): string => `feed:following:${userId}`;

/** sorted set: the author's own post ids by created-at ms, capped like a timeline (fan-in) */
export const authoredKey = (authorId: string): string => `feed:authored:${authorId}`;

/**
 * hash: followee id → the graph version (outbox id) of the last follow or unfollow of that pair
 * applied for this follower; an event at or below it is older and is not applied again.
 */
export const graphVersionKey = (followerId: string): string => `feed:graph-version:${followerId}`;
