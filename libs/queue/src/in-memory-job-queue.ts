import type { JobName, JobOf, QueueName } from '@murmur/contracts';
import type { BulkJob, EnqueueOptions, JobQueue } from './job-queue';

/**
 * The queue port in memory, for unit tests of the services that enqueue: it keeps what was added
 * in order and, as BullMQ does, adds no second job under an id it already holds.
 */
export class InMemoryJobQueue<Q extends QueueName> implements JobQueue<Q> {
  /** the jobs kept, in the order they were added (a union by name: `name` narrows `data`) */
  readonly jobs: BulkJob<Q>[] = [];
  /** every job handed to add or addBulk, kept or not */
  adds = 0;
  /** set to make every add fail (a queue that is down) */
  failing?: Error;

  constructor(readonly name: Q) {}

  add<N extends JobName<Q>>(name: N, data: JobOf<Q, N>, opts?: EnqueueOptions): Promise<void> {
    return this.addBulk([{ name, data, opts }]);
  }

  addBulk(jobs: readonly BulkJob<Q>[]): Promise<void> {
    this.adds += jobs.length;
    if (this.failing) {
      return Promise.reject(this.failing);
    }
    for (const job of jobs) {
      const id = job.opts?.jobId;
      if (id === undefined || !this.jobs.some((kept) => kept.opts?.jobId === id)) {
        this.jobs.push(job);
      }
    }
    return Promise.resolve();
  }
}
