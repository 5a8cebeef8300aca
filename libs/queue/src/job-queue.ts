import { Inject } from '@nestjs/common';
import type { JobItem, JobName, JobOf, QueueJob, QueueName } from '@murmur/contracts';
import type { JobsOptions, Queue } from 'bullmq';

/** What a producer may say about a job besides its name and payload. */
export type EnqueueOptions = Pick<
  JobsOptions,
  'jobId' | 'delay' | 'attempts' | 'deduplication' | 'removeOnComplete' | 'removeOnFail'
>;

/** One job of queue `Q` for `addBulk`: a name, the payload that name takes, and its options. */
export type BulkJob<Q extends QueueName> = QueueJob<Q> & { opts?: EnqueueOptions };

/**
 * The port a service enqueues through: the payload is typed by the job name (`JobOf<Q, N>` in
 * `@murmur/contracts`), so a wrong payload for a name is a compile error. BullMQ behind it in
 * the services (`BullJobQueue`), `InMemoryJobQueue` in unit tests.
 */
export interface JobQueue<Q extends QueueName> {
  readonly name: Q;
  add<N extends JobName<Q>>(name: N, data: JobOf<Q, N>, opts?: EnqueueOptions): Promise<void>;
  addBulk(jobs: readonly BulkJob<Q>[]): Promise<void>;
}

/** The injection token of queue `name`'s port (registered by `QueueModule.forRoot`). */
export function jobQueueToken(name: QueueName): string {
  return `murmur:job-queue:${name}`;
}

/** `@InjectJobQueue(QUEUES.likes) queue: JobQueue<typeof QUEUES.likes>` */
export function InjectJobQueue(name: QueueName): PropertyDecorator & ParameterDecorator {
  return Inject(jobQueueToken(name));
}

/** The BullMQ adapter of the port. */
export class BullJobQueue<Q extends QueueName> implements JobQueue<Q> {
  constructor(
    readonly name: Q,
    private readonly queue: Pick<Queue, 'add' | 'addBulk'>,
  ) {}

  async add<N extends JobName<Q>>(
    name: N,
    data: JobOf<Q, N>,
    opts?: EnqueueOptions,
  ): Promise<void> {
    await this.queue.add(name, data, opts);
  }

  async addBulk(jobs: readonly BulkJob<Q>[]): Promise<void> {
    await this.queue.addBulk(jobs.map(({ name, data, opts }) => ({ name, data, opts })));
  }

  /**
   * An item of the `JobItem` union (the outbox relay's jobs), whose payload was checked against
   * its queue and name where it was built (`jobsForEvent`), with its id as job id.
   */
  async addItem(item: JobItem): Promise<void> {
    if (item.queue !== this.name) {
      throw new Error(`a job for queue ${item.queue} handed to queue ${this.name}`);
    }
    await this.queue.add(item.name, item.data, { jobId: item.jobId });
  }
}

/** A queue that takes `JobItem`s: a `BullJobQueue` of any queue. */
type ItemQueue = Pick<BullJobQueue<QueueName>, 'name' | 'addItem'>;

/** Every queue port of the process by name: where the outbox relay publishes. */
export class JobQueues {
  private readonly byName: ReadonlyMap<QueueName, ItemQueue>;

  constructor(queues: readonly ItemQueue[]) {
    this.byName = new Map(queues.map((q) => [q.name, q]));
  }

  /** Enqueue `item` on its queue, with its id as job id. */
  async publish(item: JobItem): Promise<void> {
    const queue = this.byName.get(item.queue);
    if (!queue) {
      throw new Error(`queue ${item.queue} is not registered (QueueModule.forRoot)`);
    }
    await queue.addItem(item);
  }
}
