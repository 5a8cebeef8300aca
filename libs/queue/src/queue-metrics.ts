import { getQueueToken } from '@nestjs/bullmq';
import {
  Inject,
  Injectable,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import type { JobName, JobOf, QueueName } from '@murmur/contracts';
import { metricsRegistry } from '@murmur/observability';
import { Counter, Gauge, Histogram } from 'prom-client';

export const queueJobsTotal = new Counter({
  name: 'murmur_queue_jobs_total',
  help: 'BullMQ jobs processed by queue, job name and outcome',
  labelNames: ['queue', 'job', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const queueDepth = new Gauge({
  name: 'murmur_queue_depth',
  help: 'Jobs waiting, active, delayed and failed per queue',
  labelNames: ['queue', 'state'] as const,
  registers: [metricsRegistry],
});

export const queueLagSeconds = new Histogram({
  name: 'murmur_queue_lag_seconds',
  help: 'Time from enqueue to the start of processing',
  labelNames: ['queue'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

/**
 * What a processor of queue `Q` receives: a BullMQ job whose data is typed by its name, so a
 * `switch (job.name)` narrows `job.data` and an unhandled name is a compile error.
 */
export type JobOfQueue<Q extends QueueName> = {
  [N in JobName<Q>]: Job<JobOf<Q, N>, unknown, N>;
}[JobName<Q>];

/** For the `default:` of an exhaustive switch over job names. */
export function unknownJob(job: never): never {
  throw new Error(`unknown job ${String((job as { name?: unknown }).name)}`);
}

/** Record lag at the start of a job and its outcome at the end. */
export async function measured<T>(queue: string, job: Job, fn: () => Promise<T>): Promise<T> {
  queueLagSeconds.observe({ queue }, Math.max(0, Date.now() - job.timestamp) / 1000);
  try {
    const result = await fn();
    queueJobsTotal.inc({ queue, job: job.name, outcome: 'completed' });
    return result;
  } catch (error) {
    queueJobsTotal.inc({ queue, job: job.name, outcome: 'failed' });
    throw error;
  }
}

/** Poll queue depth into the `murmur_queue_depth` gauge. */
export function watchQueueDepth(queues: Queue[], everyMs = 2_000): () => void {
  const tick = (): void => {
    for (const q of queues) {
      q.getJobCounts('waiting', 'active', 'delayed', 'failed')
        .then((counts) => {
          for (const [state, n] of Object.entries(counts)) {
            queueDepth.set({ queue: q.name, state }, n);
          }
        })
        .catch(() => undefined);
    }
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * A provider that polls the depth of queue `name` into `murmur_queue_depth` while the module
 * lives: add `queueDepthWatcher(QUEUES.x)` to the providers of the module that processes it.
 */
export function queueDepthWatcher(name: string): Type<OnModuleInit & OnApplicationShutdown> {
  @Injectable()
  class QueueDepthWatcher implements OnModuleInit, OnApplicationShutdown {
    private stop?: () => void;

    constructor(@Inject(getQueueToken(name)) private readonly queue: Queue) {}

    onModuleInit(): void {
      this.stop = watchQueueDepth([this.queue]);
    }

    onApplicationShutdown(): void {
      this.stop?.();
    }
  }
  return QueueDepthWatcher;
}
