import { type DynamicModule, Module } from '@nestjs/common';
import type { FeedServiceConfig } from '../config';
import { FANIN_MAX_FOLLOWEES, FaninRepository } from './fanin.repository';
import { FeedController } from './feed.controller';
import { FeedService } from './feed.service';
import { POST_CLIENT_OPTIONS, PostClient } from './post.client';
import { TIMELINE_SOURCE } from './timeline-source';
import { TimelineRepository } from './timeline.repository';

@Module({})
export class FeedModule {
  static forRoot(config: FeedServiceConfig): DynamicModule {
    return {
      module: FeedModule,
      controllers: [FeedController],
      providers: [
        FeedService,
        {
          provide: TIMELINE_SOURCE,
          useClass: config.FANOUT_ON_WRITE ? TimelineRepository : FaninRepository,
        },
        { provide: FANIN_MAX_FOLLOWEES, useValue: config.FANIN_MAX_FOLLOWEES },
        PostClient,
        {
          provide: POST_CLIENT_OPTIONS,
          useValue: { url: config.POST_GRPC_URL, timeoutMs: config.POST_GRPC_TIMEOUT_MS },
        },
      ],
    };
  }
}
