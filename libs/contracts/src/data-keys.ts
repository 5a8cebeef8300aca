/**
 * The derived state in the data Redis that more than one part writes or rebuilds: the feed's
 * timelines and its copy of the follow graph, the leaderboards, and the marker that says the
 * whole lot is complete. Postgres holds the source of truth for every one of them (`follows`,
 * the post shards, `leaderboard_events`), so `npm run rebuild` can make them again.
 */

/**
 * sorted set: post ids of the user's home timeline by created-at ms (fan-out on write), capped;
 * materialised on the user's first read and expired after `TIMELINE_IDLE_TTL_SECONDS` unread
 */
export const timelineKey = (userId: string): string => `timeline:${userId}`;

/**
 * The member a materialised timeline holds when it has no post (score 0, the oldest possible):
 * the key exists, so fan-out writes reach it. Never a post id (those are positive); readers skip
 * it.
 */
export const TIMELINE_SENTINEL = '0';

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

// Leaderboards: one sorted set per board and window (`windowKey` in leaderboard-windows.ts), a
// projection of `leaderboard_events` (live) and `leaderboard_window_scores` (rebuilt).

/**
 * The derived-state marker and the rebuild's own keys. The marker is written when the derived
 * state is known complete (a rebuild finished, or the stores were created empty together); a data
 * Redis that comes back without it (a FLUSHALL, a lost volume) is rebuilt from Postgres.
 */
export const DERIVED_KEYS = {
  /** string (JSON `DerivedMarker`): present while the derived state is complete */
  marker: 'murmur:derived:ready',
  /** hash: the running rebuild's phase, owner, start time and progress */
  rebuild: 'murmur:derived:rebuild',
  /** string: the rebuild lock (one rebuild at a time), with a TTL renewed while it runs */
  lock: 'murmur:derived:lock',
} as const;

export interface DerivedMarker {
  /** what made the state complete */
  by: 'rebuild' | 'empty' | 'seed';
  /** ISO time */
  at: string;
}

/**
 * A rebuild's phases, in order. Once `authored` is done the graph and every author's list are
 * back, so a feed can be merged at read (fan-in) until the rebuild ends; once `leaderboards` is
 * done the boards are whole again. Timelines have no phase: they are materialised on read, once
 * the marker is back.
 */
export const REBUILD_PHASES = ['graph', 'authored', 'leaderboards'] as const;
export type RebuildPhase = (typeof REBUILD_PHASES)[number];
