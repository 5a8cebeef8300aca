import { WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { FEED_JOBS, QUEUES } from '@murmur/contracts';
import { type JobOfQueue, measured, QueueProcessor, unknownJob } from '@murmur/queue';
import type { Job } from 'bullmq';
import { asFanoutProgress, type FanoutRun, FanoutService } from './fanout.service';

/** A post job as the fan-out sees it: its id, and the progress an earlier attempt saved on it. */
function fanoutRun(job: Job): FanoutRun {
  if (job.id === undefined) {
    throw new Error('a fan-out job without an id');
  }
  return {
    id: job.id,
    progress: asFanoutProgress(job.progress),
    saveProgress: (progress) => job.updateProgress(progress),
  };
}

@QueueProcessor(QUEUES.feed)
export class FanoutProcessor extends WorkerHost {
  constructor(@Inject(FanoutService) private readonly fanout: FanoutService) {
    super();
  }

  async process(job: JobOfQueue<typeof QUEUES.feed>): Promise<unknown> {
    return measured(QUEUES.feed, job, async () => {
      switch (job.name) {
        case FEED_JOBS.fanout:
          return this.fanout.fanout(job.data, fanoutRun(job));
        case FEED_JOBS.fanoutChunk:
          return { delivered: await this.fanout.fanoutChunk(job.data) };
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
