import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import type { QueueConfig, RedisConfig } from '@murmur/config';
import type { RedisOptions } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';

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

@Module({})
export class QueueModule {
  static forRoot(redis: RedisConfig, queue: QueueConfig, queues: string[]): DynamicModule {
    return {
      module: QueueModule,
      global: true,
      imports: [
        BullModule.forRoot({
          connection: redisConnectionOptions(redis.REDIS_URL),
          prefix: 'murmur',
          telemetry: new BullMQOtel({ tracerName: 'murmur-bullmq' }),
          defaultJobOptions: {
            attempts: queue.QUEUE_ATTEMPTS,
            backoff: { type: 'exponential', delay: queue.QUEUE_BACKOFF_MS },
            removeOnComplete: { age: 3600, count: 10_000 },
            removeOnFail: { age: 7 * 24 * 3600 },
          },
        }),
        ...queues.map((name) => BullModule.registerQueue({ name })),
      ],
      providers: [{ provide: 'QUEUE_CONFIG', useValue: queue }],
      exports: [BullModule, 'QUEUE_CONFIG'],
    };
  }
}

/**
 * Longest a request waits for an enqueue. BullMQ's connection retries forever (its workers must),
 * so a producer on a stalled Redis would wait with it; past this the request gets a 503.
 */
export const ENQUEUE_DEADLINE_MS = 1_000;
