import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import type { QueueConfig } from '@murmur/config';
import { LEADERBOARD_JOBS, QUEUES } from '@murmur/contracts';
import { configureWorker, type JobOfQueue, measured, unknownJob } from '@murmur/queue';
import { ScoringService } from './scoring.service';

@Processor(QUEUES.leaderboard)
export class ScoreProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    @Inject(ScoringService) private readonly scoring: ScoringService,
    @Inject('QUEUE_CONFIG') private readonly config: QueueConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    configureWorker(this.worker, this.config.QUEUE_CONCURRENCY);
  }

  async process(job: JobOfQueue<typeof QUEUES.leaderboard>): Promise<{ score: number }> {
    switch (job.name) {
      case LEADERBOARD_JOBS.score:
        return measured(QUEUES.leaderboard, job, async () => ({
          score: await this.scoring.apply(job.data),
        }));
      default:
        return unknownJob(job.name);
    }
  }
}
