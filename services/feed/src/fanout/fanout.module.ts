import { type DynamicModule, Module } from '@nestjs/common';
import { QUEUES } from '@murmur/contracts';
import { queueDepthWatcher } from '@murmur/queue';
import type { FeedWorkerConfig } from '../config';
import { FanoutProcessor } from './fanout.processor';
import { FanoutRepository } from './fanout.repository';
import { FANOUT_ON_WRITE, FanoutService, TIMELINE_MAX } from './fanout.service';

@Module({})
export class FanoutModule {
  static forRoot(config: FeedWorkerConfig): DynamicModule {
    return {
      module: FanoutModule,
      providers: [
        FanoutProcessor,
        FanoutService,
        FanoutRepository,
        queueDepthWatcher(QUEUES.feed),
        { provide: TIMELINE_MAX, useValue: config.TIMELINE_MAX },
        { provide: FANOUT_ON_WRITE, useValue: config.FANOUT_ON_WRITE },
      ],
    };
  }
}
