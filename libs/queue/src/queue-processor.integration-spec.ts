import { WorkerHost } from '@nestjs/bullmq';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { queueConfigSchema, redisConfigSchema } from '@murmur/config';
import { LIKES_JOBS, QUEUES } from '@murmur/contracts';
import { testTopology, waitFor } from '@murmur/testing';
import { Redis } from 'ioredis';
import { type JobQueue, jobQueueToken } from './job-queue';
import { QUEUE_PREFIX, QueueModule, QueueProcessor } from './queue.module';

/** A database of the test stack's data Redis that no stack worker listens on. */
const REDIS_URL = `redis://127.0.0.1:${testTopology().redis.find((r) => r.purpose === 'queue')?.port}/12`;

/**
 * One gate for every job, opened once: BullMQ writes a job's lock before it calls `process()`, so
 * the test can see the lock, open the gate and reach `app.close()` before the job has started. A
 * job that starts after that must not wait (a resolver captured inside `process()` would be set
 * too late, and `close()` would wait for that job for ever).
 */
let release: () => void = () => undefined;
const gate = new Promise<void>((resolve) => (release = resolve));

@QueueProcessor(QUEUES.likes)
class HeldJobProcessor extends WorkerHost {
  /** Holds each job until the test releases it, so its lock can be looked at. */
  process(): Promise<void> {
    return gate;
  }
}

/**
 * The worker options from config reach the BullMQ worker that @nestjs/bullmq creates, and take
 * effect on the jobs it runs (a lock's lifetime), not only on its `opts`.
 */
describe(`${QueueProcessor.name} (real Redis)`, () => {
  const redis = new Redis(REDIS_URL);
  let app: INestApplicationContext;

  beforeAll(async () => {
    await redis.flushdb();
    const queue = queueConfigSchema.parse({
      QUEUE_CONCURRENCY: '3',
      QUEUE_MAX_STALLED_COUNT: '5',
      QUEUE_STALLED_INTERVAL_MS: '4321',
      QUEUE_LOCK_DURATION_MS: '60000',
    });
    @Module({
      imports: [
        QueueModule.forRoot({ ...redisConfigSchema.parse({ REDIS_URL }), ...queue }, [
          QUEUES.likes,
        ]),
      ],
      providers: [HeldJobProcessor],
    })
    class ProbeModule {}
    app = await NestFactory.createApplicationContext(ProbeModule, { logger: false });
    await app.init();
  });

  afterAll(async () => {
    release();
    await app.close();
    await redis.flushdb();
    redis.disconnect();
  });

  it('creates the worker with the configured concurrency and stalled-job limits', () => {
    expect(app.get(HeldJobProcessor).worker.opts).toMatchObject({
      concurrency: 3,
      maxStalledCount: 5,
      stalledInterval: 4321,
      lockDuration: 60_000,
      // derived by BullMQ in the constructor: too late to change once the worker exists
      lockRenewTime: 30_000,
    });
  });

  it("locks a running job for QUEUE_LOCK_DURATION_MS (BullMQ's own default is 30 s)", async () => {
    // Enqueued through the port the module registered, as a service would.
    const queue = app.get<JobQueue<typeof QUEUES.likes>>(jobQueueToken(QUEUES.likes));
    try {
      await queue.add(LIKES_JOBS.flush, {}, { jobId: 'held' });
      const lockKey = `${QUEUE_PREFIX}:${QUEUES.likes}:held:lock`;
      const ttl = await waitFor(
        async () => ((await redis.exists(lockKey)) ? redis.pttl(lockKey) : undefined),
        {
          timeoutMs: 10_000,
          what: 'the running job locked',
        },
      );
      expect(ttl).toBeGreaterThan(30_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      release();
    }
  });
});
