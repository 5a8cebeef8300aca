import { WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { LEADERBOARD_JOBS, QUEUES } from '@murmur/contracts';
import { type JobOfQueue, measured, QueueProcessor, unknownJob } from '@murmur/queue';
import { ScoringService } from './scoring.service';

@QueueProcessor(QUEUES.leaderboard)
export class ScoreProcessor extends WorkerHost {
  constructor(@Inject(ScoringService) private readonly scoring: ScoringService) {
    super();
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
