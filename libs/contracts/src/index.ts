/**
 * @murmur/contracts — what services say to each other: the gRPC protos, queue and job names, and
 * the typed payloads of jobs. Changing a payload here is changing a wire format: keep it additive.
 */
import path from 'node:path';

export const POST_PROTO_PATH = path.join(__dirname, '..', 'proto', 'post.proto');
export const POST_GRPC_PACKAGE = 'murmur.post';
export const POST_GRPC_SERVICE = 'PostService';

export interface GrpcPost {
  id: string;
  authorId: string;
  text: string;
  createdAt: string;
  likeCount: number;
}

export interface GetPostsRequest {
  ids: string[];
}

export interface GetPostsResponse {
  posts?: GrpcPost[];
}

export const QUEUES = {
  /** fan-out of new posts and follow-graph changes into timelines (feed) */
  feed: 'feed',
  /** score events for leaderboards */
  leaderboard: 'leaderboard',
  /** write-behind flushes of like counters to the post shards (post) */
  likes: 'likes',
} as const;

export const FEED_JOBS = {
  fanout: 'fanout',
  follow: 'follow',
  unfollow: 'unfollow',
} as const;

export const LIKES_JOBS = {
  /** flush every pending like and unlike to Postgres; coalesced, one at a time */
  flush: 'flush',
} as const;

export const LEADERBOARD_JOBS = {
  score: 'score',
} as const;

export interface FanoutJob {
  postId: string;
  authorId: string;
  /** epoch ms, the timeline score */
  createdAt: number;
}

export interface FollowJob {
  followerId: string;
  followeeId: string;
}

export interface ScoreJob {
  board: string;
  userId: string;
  delta: number;
  /** the id of the event that earned the points; a redelivered job must not count twice */
  eventId: string;
}

export const BOARDS = {
  posters: 'posters',
} as const;
