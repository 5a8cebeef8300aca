import { WorkerHost } from '@nestjs/bullmq';
import {
  Inject,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LIKES_JOBS, QUEUES } from '@murmur/contracts';
import { type JobOfQueue, measured, QueueProcessor, unknownJob } from '@murmur/queue';
import { type FlushResult, LikesFlushService } from './likes-flush.service';

const SWEEP_EVERY_MS = 15_000;

@QueueProcessor(QUEUES.likes)
export class LikesFlushProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(LikesFlushProcessor.name);
  private sweeper?: NodeJS.Timeout;

  constructor(@Inject(LikesFlushService) private readonly flusher: LikesFlushService) {
    super();
  }

  onApplicationBootstrap(): void {
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
