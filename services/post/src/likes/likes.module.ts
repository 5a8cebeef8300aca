import { type DynamicModule, Module } from '@nestjs/common';
import type { LikesConfig } from '@murmur/config';
import { QUEUES } from '@murmur/contracts';
import { queueDepthWatcher } from '@murmur/queue';
import { LikeStore } from './like-store';
import { LikesFlushProcessor } from './likes-flush.processor';
import { LikesFlushService } from './likes-flush.service';
import { LikesController } from './likes.controller';
import { LikesRepository } from './likes.repository';
import { LIKES_CONFIG, LikesService } from './likes.service';

/** The API side: like and unlike, and live counts for post reads. */
@Module({})
export class LikesModule {
  static forRoot(config: LikesConfig): DynamicModule {
    return {
      module: LikesModule,
      controllers: [LikesController],
      providers: [
        LikeStore,
        LikesRepository,
        LikesService,
        { provide: LIKES_CONFIG, useValue: config },
      ],
      exports: [LikesService],
    };
  }
}

/** The worker side: the write-behind flush. */
@Module({})
export class LikesFlushModule {
  static forRoot(config: LikesConfig): DynamicModule {
    return {
      module: LikesFlushModule,
      providers: [
        LikeStore,
        LikesRepository,
        LikesFlushService,
        LikesFlushProcessor,
        queueDepthWatcher(QUEUES.likes),
        { provide: LIKES_CONFIG, useValue: config },
      ],
    };
  }
}
