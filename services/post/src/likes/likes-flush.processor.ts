import { Processor, WorkerHost } from '@nestjs/bullmq';
import {
  Inject,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { QueueConfig } from '@murmur/config';
import { LIKES_JOBS, QUEUES } from '@murmur/contracts';
import { configureWorker, type JobOfQueue, measured, unknownJob } from '@murmur/queue';
import { type FlushResult, LikesFlushService } from './likes-flush.service';

const SWEEP_EVERY_MS = 15_000;

@Processor(QUEUES.likes)
export class LikesFlushProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(LikesFlushProcessor.name);
  private sweeper?: NodeJS.Timeout;

  constructor(
    @Inject(LikesFlushService) private readonly flusher: LikesFlushService,
    @Inject('QUEUE_CONFIG') private readonly config: QueueConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    configureWorker(this.worker, this.config.QUEUE_CONCURRENCY);
    const sweep = (): void => {
      this.flusher
        .sweep()
        .then((pending) => pending > 0 && this.logger.log(`sweep: ${pending} posts pending`))
        .catch((error: Error) => this.logger.warn(`sweep failed: ${error.message}`));
    };
    sweep();
    this.sweeper = setInterval(sweep, SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  async process(job: JobOfQueue<typeof QUEUES.likes>): Promise<FlushResult> {
    switch (job.name) {
      case LIKES_JOBS.flush:
        return measured(QUEUES.likes, job, () => this.flusher.flush());
      default:
        return unknownJob(job.name);
    }
  }
}
