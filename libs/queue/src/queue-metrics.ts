import type { Job, Queue, Worker } from 'bullmq';
import { queueDepth, queueJobsTotal, queueLagSeconds } from '@murmur/observability';

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

/** Apply the configured concurrency to a worker created by @nestjs/bullmq. */
export function configureWorker(worker: Worker, concurrency: number): void {
  worker.concurrency = concurrency;
}
