import { getQueueToken } from '@nestjs/bullmq';
import {
  type DynamicModule,
  Inject,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { QUEUES } from '@murmur/contracts';
import { watchQueueDepth } from '@murmur/queue';
import type { Queue } from 'bullmq';
import type { FeedWorkerConfig } from '../config';
import { FanoutProcessor } from './fanout.processor';
import { FanoutRepository } from './fanout.repository';
import { FanoutService, TIMELINE_MAX } from './fanout.service';

@Module({})
export class FanoutModule implements OnModuleInit, OnApplicationShutdown {
  private stopWatching?: () => void;

  constructor(@Inject(getQueueToken(QUEUES.feed)) private readonly queue: Queue) {}

  static forRoot(config: FeedWorkerConfig): DynamicModule {
    return {
      module: FanoutModule,
      providers: [
        FanoutProcessor,
        FanoutService,
        FanoutRepository,
        { provide: TIMELINE_MAX, useValue: config.TIMELINE_MAX },
      ],
    };
  }

  onModuleInit(): void {
    this.stopWatching = watchQueueDepth([this.queue]);
  }

  onApplicationShutdown(): void {
    this.stopWatching?.();
  }
}
