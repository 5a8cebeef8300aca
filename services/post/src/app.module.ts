import { QUEUES } from '@murmur/contracts';
import { defineService } from '@murmur/http';
import { postApiConfig, postWorkerConfig } from './config';
import { LikesFlushModule } from './likes/likes.module';
import { PostsModule } from './posts/posts.module';

/** Likes enqueue flushes; the outbox relay publishes post.created to the feed and leaderboard. */
export const apiModule = defineService(postApiConfig, (config) => ({
  queues: [QUEUES.feed, QUEUES.leaderboard, QUEUES.likes],
  features: [PostsModule.forRoot(config)],
}));

/** The post worker: write-behind flushes of likes; HTTP only for health and metrics. */
export const workerModule = defineService(postWorkerConfig, (config) => ({
  queues: [QUEUES.likes],
  features: [LikesFlushModule.forRoot(config)],
}));
