import { BullModule, getQueueToken, Processor } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import type { QueueConfig, RedisConfig } from '@murmur/config';
import type { QueueName } from '@murmur/contracts';
import type { Queue, RedisOptions, WorkerOptions } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { BullJobQueue, jobQueueToken, JobQueues } from './job-queue';

/** BullMQ's key prefix: a queue's keys are `murmur:<queue>:*`. */
export const QUEUE_PREFIX = 'murmur';

export function redisConnectionOptions(url: string): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    // BullMQ workers block on Redis; they must retry forever rather than fail a command.
    maxRetriesPerRequest: null,
  };
}

/** What every worker takes from config. */
export type ConfiguredWorkerOptions = Required<
  Pick<WorkerOptions, 'concurrency' | 'maxStalledCount' | 'stalledInterval' | 'lockDuration'>
>;

export function workerOptions(queue: QueueConfig): ConfiguredWorkerOptions {
  return {
    concurrency: queue.QUEUE_CONCURRENCY,
    maxStalledCount: queue.QUEUE_MAX_STALLED_COUNT,
    stalledInterval: queue.QUEUE_STALLED_INTERVAL_MS,
    lockDuration: queue.QUEUE_LOCK_DURATION_MS,
  };
}

/** Re-applies `@Processor` with the configured worker options to each class marked below. */
const configurableProcessors: Array<(options: ConfiguredWorkerOptions) => void> = [];

/**
 * `@Processor(queue)` whose worker gets its concurrency and stalled-job limits from config
 * (QueueModule.forRoot). They cannot be set on the worker once it exists: @nestjs/bullmq creates
 * it at module init with the options of the `@Processor` metadata, and BullMQ reads them in the
 * Worker's constructor (its lock manager keeps `lockDuration` and `lockRenewTime` from then on,
 * and autorun starts taking jobs at once). A decorator cannot see the validated config, so
 * `forRoot`, which runs after every processor class is loaded and before module init, applies
 * `@Processor(queue, workerOptions(config))` to each class marked with this one.
 */
export function QueueProcessor(queue: QueueName): ClassDecorator {
  return (target) => {
    Processor(queue)(target);
    configurableProcessors.push((options) => Processor(queue, options)(target));
  };
}

/**
 * BullMQ on the data Redis, and the queues `queues` of this process: each behind its typed port
 * (`@InjectJobQueue(name)`), all of them behind `JobQueues` (what the outbox relay publishes to).
 */
@Module({})
export class QueueModule {
  static forRoot(config: RedisConfig & QueueConfig, queues: readonly QueueName[]): DynamicModule {
    const options = workerOptions(config);
    for (const configure of configurableProcessors) {
      configure(options);
    }
    const ports = queues.map((name) => ({
      provide: jobQueueToken(name),
      inject: [getQueueToken(name)],
      useFactory: (queue: Queue) => new BullJobQueue(name, queue),
    }));
    return {
      module: QueueModule,
      global: true,
      imports: [
        BullModule.forRoot({
          connection: redisConnectionOptions(config.REDIS_URL),
          prefix: QUEUE_PREFIX,
          telemetry: new BullMQOtel({ tracerName: 'murmur-bullmq' }),
          defaultJobOptions: {
            attempts: config.QUEUE_ATTEMPTS,
            backoff: { type: 'exponential', delay: config.QUEUE_BACKOFF_MS },
            removeOnComplete: { age: 3600, count: 10_000 },
            removeOnFail: { age: 7 * 24 * 3600 },
          },
        }),
        ...queues.map((name) => BullModule.registerQueue({ name })),
      ],
      providers: [
        ...ports,
        {
          provide: JobQueues,
          inject: ports.map((p) => p.provide),
          useFactory: (...all: Array<BullJobQueue<QueueName>>) => new JobQueues(all),
        },
      ],
      // BullModule: the raw queues, for the processors and depth watchers inside this lib.
      exports: [BullModule, JobQueues, ...ports.map((p) => p.provide)],
    };
  }
}

/**
 * Longest a request waits for an enqueue. BullMQ's connection retries forever (its workers must),
 * so a producer on a stalled Redis would wait with it; past this the request gets a 503.
 */
export const ENQUEUE_DEADLINE_MS = 1_000;
