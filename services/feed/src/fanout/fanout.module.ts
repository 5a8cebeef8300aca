import { type DynamicModule, Module } from '@nestjs/common';
import { QUEUES } from '@murmur/contracts';
import { queueDepthWatcher } from '@murmur/queue';
import type { FeedWorkerConfig } from '../config';
import { FanoutProcessor } from './fanout.processor';
import { FanoutRepository } from './fanout.repository';
import { FANOUT_OPTIONS, FanoutService, type FanoutOptions } from './fanout.service';

@Module({})
export class FanoutModule {
  static forRoot(config: FeedWorkerConfig): DynamicModule {
    const options: FanoutOptions = {
      timelineMax: config.TIMELINE_MAX,
      fanoutOnWrite: config.FANOUT_ON_WRITE,
      chunkSize: config.FANOUT_CHUNK_SIZE,
    };
    return {
      module: FanoutModule,
      providers: [
        FanoutProcessor,
        FanoutService,
        FanoutRepository,
        queueDepthWatcher(QUEUES.feed),
        { provide: FANOUT_OPTIONS, useValue: options },
      ],
    };
  }
}
