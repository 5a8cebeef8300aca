/**
 * @murmur/contracts — what services say to each other: the gRPC protos, queue and job names, and
 * the typed payloads of jobs. Changing a payload here is changing a wire format: keep it additive.
 */
import path from 'node:path';
import type { BoardMember } from './leaderboard-windows';

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
  /** part of a post's fan-out: push it into the timelines of the followers it names */
  fanoutChunk: 'fanout-chunk',
  follow: 'follow',
  unfollow: 'unfollow',
} as const;

export const LIKES_JOBS = {
  /** flush every pending like and unlike to Postgres; coalesced, one at a time */
  flush: 'flush',
} as const;

export const LEADERBOARD_JOBS = {
  score: 'score',
  /** refresh the per-window materialized view; deduplicated, one at a time */
  refreshViews: 'refresh-views',
} as const;

export interface FanoutJob {
  postId: string;
  authorId: string;
  /** epoch ms, the timeline score */
  createdAt: number;
}

/**
 * One bounded part of a post's fan-out, queued by the post's `fanout` job with the id
 * `<fanout job id>-chunk-<n>`, so a re-run of that job adds no second copy of a chunk it queued.
 */
export interface FanoutChunkJob extends FanoutJob {
  /** at most FANOUT_CHUNK_SIZE follower ids */
  followerIds: string[];
}

export interface FollowJob {
  followerId: string;
  followeeId: string;
  /**
   * The follow-graph version of this change (its outbox row id on the main database, which
   * grows in commit order for one pair): the feed applies a change only if it is newer than the
   * last one it applied to the pair, so a retried or reordered older event never overwrites a
   * newer one. Absent on jobs queued before versions existed (applied unconditionally).
   */
  version?: string;
}

export interface ScoreJob {
  board: string;
  /** the board's member: a user id on a user board, a post id on a post board (`BOARD_MEMBERS`) */
  userId: string;
  /** may be negative (an unlike) */
  delta: number;
  /** the id of the event that earned the points; a redelivered job must not count twice */
  eventId: string;
  /**
   * epoch ms when the event happened: it decides the day and the week the points count in.
   * Absent on jobs queued before windows existed (they count when they are counted).
   */
  at?: number;
}

export const BOARDS = {
  /** users by posts written */
  posters: 'posters',
  /** posts by likes received (net of unlikes) */
  likedPosts: 'liked-posts',
} as const;
export type BoardName = (typeof BOARDS)[keyof typeof BOARDS];

/** What each board ranks. */
export const BOARD_MEMBERS: Record<BoardName, BoardMember> = {
  [BOARDS.posters]: 'user',
  [BOARDS.likedPosts]: 'post',
};

/** An empty payload: the job's name says everything. */
export type NoPayload = Record<string, never>;

/**
 * Every job by queue and name: the one contract producers, the outbox relay and processors type
 * against. `JobOf<'feed', 'fanout'>` is a fan-out job's data; a wrong payload is a compile error.
 */
export interface JobPayloads {
  [QUEUES.feed]: {
    [FEED_JOBS.fanout]: FanoutJob;
    [FEED_JOBS.fanoutChunk]: FanoutChunkJob;
    [FEED_JOBS.follow]: FollowJob;
    [FEED_JOBS.unfollow]: FollowJob;
  };
  [QUEUES.leaderboard]: {
    [LEADERBOARD_JOBS.score]: ScoreJob;
    [LEADERBOARD_JOBS.refreshViews]: NoPayload;
  };
  [QUEUES.likes]: { [LIKES_JOBS.flush]: NoPayload };
}
export type QueueName = keyof JobPayloads;
export type JobName<Q extends QueueName> = keyof JobPayloads[Q] & string;
export type JobOf<Q extends QueueName, N extends JobName<Q>> = JobPayloads[Q][N];

/** One job to enqueue: queue, name, the payload that name takes, and its id (dedup key). */
export type JobItem = {
  [Q in QueueName]: {
    [N in JobName<Q>]: { queue: Q; name: N; data: JobOf<Q, N>; jobId: string };
  }[JobName<Q>];
}[QueueName];

/** The `{ name, data }` union a processor of queue `Q` switches over, exhaustively. */
export type QueueJob<Q extends QueueName> = {
  [N in JobName<Q>]: { name: N; data: JobOf<Q, N> };
}[JobName<Q>];

export const EVENTS = {
  postCreated: 'post.created',
  followed: 'user.followed',
  unfollowed: 'user.unfollowed',
  likesChanged: 'post.likes-changed',
} as const;

export interface PostCreatedEvent {
  postId: string;
  authorId: string;
  /** epoch ms */
  createdAt: number;
}

/**
 * A post's likes changed in one committed write (a write-behind flush, or one write-through
 * like): the net change of its like rows in that transaction, never zero.
 */
export interface LikesChangedEvent {
  postId: string;
  delta: number;
  /** epoch ms of the commit: the window the likes count in */
  at: number;
}

export interface FollowChangedEvent {
  followerId: string;
  followeeId: string;
}

/**
 * Events that must not be lost: written to an outbox in the same transaction as the change they
 * announce, then relayed to the jobs below (at least once; consumers are idempotent).
 */
export interface EventPayloads {
  [EVENTS.postCreated]: PostCreatedEvent;
  [EVENTS.followed]: FollowChangedEvent;
  [EVENTS.unfollowed]: FollowChangedEvent;
  [EVENTS.likesChanged]: LikesChangedEvent;
}
export type EventName = keyof EventPayloads;

/**
 * An event as it is in an outbox: `source` is the database whose outbox holds it, `seq` its row
 * there, `id` the event id (and the id of the jobs it becomes).
 */
export type OutboxEvent = {
  [N in EventName]: {
    id: string;
    source: string;
    seq: string;
    name: N;
    payload: EventPayloads[N];
  };
}[EventName];

/** An event as a producer writes it (the outbox assigns `id` and `seq`). */
export type NewEvent = { [N in EventName]: { name: N; payload: EventPayloads[N] } }[EventName];

/**
 * What each event becomes on the queues. Job ids are the event id (BullMQ ids are per queue), so
 * a relay that publishes an event twice (it crashed before marking it sent) adds no second job
 * while the first is kept. The score's `eventId` is the post: a post counts once, however often
 * its event is delivered.
 */
export function jobsForEvent(event: OutboxEvent): JobItem[] {
  switch (event.name) {
    case EVENTS.postCreated:
      return [
        { queue: QUEUES.feed, name: FEED_JOBS.fanout, data: event.payload, jobId: event.id },
        {
          queue: QUEUES.leaderboard,
          name: LEADERBOARD_JOBS.score,
          data: {
            board: BOARDS.posters,
            userId: event.payload.authorId,
            delta: 1,
            eventId: `post-${event.payload.postId}`,
            at: event.payload.createdAt,
          },
          jobId: event.id,
        },
      ];
    case EVENTS.likesChanged:
      // Each change is its own event (a like, an unlike, a like again): the event id is the key.
      return [
        {
          queue: QUEUES.leaderboard,
          name: LEADERBOARD_JOBS.score,
          data: {
            board: BOARDS.likedPosts,
            userId: event.payload.postId,
            delta: event.payload.delta,
            eventId: event.id,
            at: event.payload.at,
          },
          jobId: event.id,
        },
      ];
    case EVENTS.followed:
    case EVENTS.unfollowed:
      return [
        {
          queue: QUEUES.feed,
          name: event.name === EVENTS.followed ? FEED_JOBS.follow : FEED_JOBS.unfollow,
          data: { ...event.payload, version: event.seq },
          jobId: event.id,
        },
      ];
    default: {
      const unknown: never = event;
      throw new Error(`no jobs for event ${JSON.stringify(unknown)}`);
    }
  }
}
export * from './data-keys';
export * from './leaderboard-windows';
