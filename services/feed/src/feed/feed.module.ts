import { type DynamicModule, Module } from '@nestjs/common';
import { DerivedState } from '@murmur/rebuild';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import type { FeedApiConfig } from '../config';
import { FANIN_MAX_FOLLOWEES, FaninRepository } from './fanin.repository';
import { FeedController } from './feed.controller';
import { FeedService, HYDRATED_POSTS } from './feed.service';
import { HydratedPosts } from './hydrated-posts';
import { POST_CLIENT_OPTIONS, PostClient } from './post.client';
import { RebuildAwareTimelines } from './rebuild-aware-timelines';
import { TIMELINE_SOURCE, type TimelineSource } from './timeline-source';
import { TIMELINE_READ_OPTIONS, TimelineRepository } from './timeline.repository';

@Module({})
export class FeedModule {
  static forRoot(config: FeedApiConfig): DynamicModule {
    return {
      module: FeedModule,
      controllers: [FeedController],
      providers: [
        FeedService,
        TimelineRepository,
        FaninRepository,
        {
          provide: TIMELINE_SOURCE,
          inject: [
            config.FANOUT_ON_WRITE ? TimelineRepository : FaninRepository,
            FaninRepository,
            REDIS,
          ],
          useFactory: (configured: TimelineSource, fanin: FaninRepository, redis: Redis) =>
            new RebuildAwareTimelines(configured, fanin, new DerivedState(redis)),
        },
        { provide: FANIN_MAX_FOLLOWEES, useValue: config.FANIN_MAX_FOLLOWEES },
        {
          provide: TIMELINE_READ_OPTIONS,
          useValue: {
            timelineMax: config.TIMELINE_MAX,
            idleTtlSeconds: config.TIMELINE_IDLE_TTL_SECONDS,
            maxFollowees: config.FANIN_MAX_FOLLOWEES,
          },
        },
        PostClient,
        {
          provide: HYDRATED_POSTS,
          useValue: new HydratedPosts({
            freshMs: config.CACHE_L1_ENABLED ? config.FEED_POST_CACHE_TTL_MS : 0,
          }),
        },
        {
          provide: POST_CLIENT_OPTIONS,
          useValue: { url: config.POST_GRPC_URL, timeoutMs: config.POST_GRPC_TIMEOUT_MS },
        },
      ],
    };
  }
}
