import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, type OnApplicationBootstrap } from '@nestjs/common';
import type { QueueConfig } from '@murmur/config';
import { LEADERBOARD_JOBS, QUEUES, type ScoreJob } from '@murmur/contracts';
import { configureWorker, measured } from '@murmur/queue';
import type { Job } from 'bullmq';
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

  async process(job: Job<ScoreJob>): Promise<{ score: number }> {
    if (job.name !== LEADERBOARD_JOBS.score) {
      throw new Error(`unknown job ${job.name}`);
    }
    return measured(QUEUES.leaderboard, job, async () => ({
      score: await this.scoring.apply(job.data),
    }));
  }
}
