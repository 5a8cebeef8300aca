import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import type { QueueConfig } from '@murmur/config';
import { FEED_JOBS, QUEUES } from '@murmur/contracts';
import { configureWorker, type JobOfQueue, measured, unknownJob } from '@murmur/queue';
import { FanoutService } from './fanout.service';

@Processor(QUEUES.feed)
export class FanoutProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    @Inject(FanoutService) private readonly fanout: FanoutService,
    @Inject('QUEUE_CONFIG') private readonly config: QueueConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    configureWorker(this.worker, this.config.QUEUE_CONCURRENCY);
  }

  async process(job: JobOfQueue<typeof QUEUES.feed>): Promise<unknown> {
    return measured(QUEUES.feed, job, async () => {
      switch (job.name) {
        case FEED_JOBS.fanout:
          return { delivered: await this.fanout.fanout(job.data) };
        case FEED_JOBS.follow:
          return this.fanout.follow(job.data);
        case FEED_JOBS.unfollow:
          return this.fanout.unfollow(job.data);
        default:
          return unknownJob(job);
      }
    });
  }
}
