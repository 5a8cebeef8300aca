import { WorkerHost } from '@nestjs/bullmq';
import { Inject, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LEADERBOARD_JOBS, QUEUES } from '@murmur/contracts';
import { type JobOfQueue, measured, QueueProcessor, unknownJob } from '@murmur/queue';
import { ScoringService } from './scoring.service';

@QueueProcessor(QUEUES.leaderboard)
export class ScoreProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private ticker?: NodeJS.Timeout;

  constructor(@Inject(ScoringService) private readonly scoring: ScoringService) {
    super();
  }

  /**
   * The view's schedule, in the worker's own style (the likes sweeper): every process ticks,
   * the deduplicated job makes it one refresh at a time whatever the number of workers.
   */
  onApplicationBootstrap(): void {
    const every = this.scoring.refreshEveryMs;
    if (every > 0) {
      this.ticker = setInterval(() => void this.scoring.scheduleRefresh(), every);
      this.ticker.unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.ticker);
  }

  async process(job: JobOfQueue<typeof QUEUES.leaderboard>): Promise<unknown> {
    switch (job.name) {
      case LEADERBOARD_JOBS.score:
        return measured(QUEUES.leaderboard, job, async () => ({
          score: await this.scoring.apply(job.data),
        }));
      case LEADERBOARD_JOBS.refreshViews:
        return measured(QUEUES.leaderboard, job, () => this.scoring.refreshViews());
      default:
        return unknownJob(job);
    }
  }
}
