import { type DynamicModule, Module } from '@nestjs/common';
import type { FeedServiceConfig } from '../config';
import { FeedController } from './feed.controller';
import { FeedService } from './feed.service';
import { POST_CLIENT_OPTIONS, PostClient } from './post.client';
import { TimelineRepository } from './timeline.repository';

@Module({})
export class FeedModule {
  static forRoot(config: FeedServiceConfig): DynamicModule {
    return {
      module: FeedModule,
      controllers: [FeedController],
      providers: [
        FeedService,
        TimelineRepository,
        PostClient,
        {
          provide: POST_CLIENT_OPTIONS,
          useValue: { url: config.POST_GRPC_URL, timeoutMs: config.POST_GRPC_TIMEOUT_MS },
        },
      ],
    };
  }
}
