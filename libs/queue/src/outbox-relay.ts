import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { OutboxConfig } from '@murmur/config';
import { type JobItem, jobsForEvent, type OutboxEvent } from '@murmur/contracts';
import { DATABASE_CLUSTERS, type ReplicatedCluster } from '@murmur/database';
import { withDeadline } from '@murmur/errors';
import { JobQueues } from './job-queue';
import {
  outboxEventsTotal,
  outboxOldestUnsentSeconds,
  outboxPublishSeconds,
  outboxUnsent,
} from './outbox-metrics';
import { backlog, claimUnsent, markSent, purgeSent } from './outbox.repository';
import { ENQUEUE_DEADLINE_MS } from './queue.module';

/** Where jobs go: the process's queues (`JobQueues`) in the services, a recording fake in tests. */
export interface JobPublisher {
  publish(job: JobItem): Promise<void>;
}

/** One database whose outbox a relay drains. */
export interface OutboxSource {
  name: string;
  cluster: Pick<ReplicatedCluster, 'primaryTransaction' | 'onPrimary'>;
}

export type OutboxRelayOptions = OutboxConfig & {
  /** longest a batch's publication may take before the batch is left for the next pass */
  publishTimeoutMs?: number;
};

const PURGE_EVERY_MS = 60_000;

/**
 * The outbox relay: claims unsent events (FOR UPDATE SKIP LOCKED, so every process of a service
 * can run one), publishes the jobs each event becomes with the event id as job id, and marks them
 * sent in the same transaction. A crash or a stalled queue anywhere before the commit leaves the
 * events unsent for the next pass (here or in another process): delivery is at least once, and
 * BullMQ's job-id dedup plus idempotent consumers make a second delivery harmless.
 *
 * Producers hand their own events to `publish()` once their transaction has committed, so an
 * event normally leaves before the request answers; the poll (OUTBOX_POLL_MS) picks up what a
 * crashed process, or a publication that missed its wait, left behind.
 */
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private lastPurge = 0;
  /** set by the poll: the backlog gauges (and the purge) are polled, not paid by every write */
  private housekeepingDue = true;

  constructor(
    private readonly sources: readonly OutboxSource[],
    private readonly publisher: JobPublisher,
    private readonly options: OutboxRelayOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => {
      this.housekeepingDue = true;
      this.kick();
    }, this.options.OUTBOX_POLL_MS);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** Run a pass soon; passes never overlap, a kick during one runs another right after. */
  kick(): void {
    if (this.stopped) {
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /**
   * The fast path, after a commit that appended `events`: publish their jobs and mark them sent,
   * waiting at most `maxWaitMs`. Past it, or on a failure, the request goes on: the events are
   * owed, not lost, and a poll publishes them (a publication that finishes late marks them
   * itself). A poll racing this one may publish an event twice; the job id and the idempotent
   * consumers absorb it. No claim, no extra transaction: the cost of a direct enqueue plus
   * one UPDATE.
   */
  async publish(
    events: readonly OutboxEvent[],
    maxWaitMs = this.options.OUTBOX_FLUSH_WAIT_MS,
  ): Promise<void> {
    if (events.length === 0) {
      return;
    }
    try {
      await withDeadline(this.publishAndMark(events), maxWaitMs, 'The job queue');
    } catch {
      for (const e of events) {
        outboxEventsTotal.inc({ source: e.source, outcome: 'deferred' });
      }
    }
  }

  private async publishAndMark(events: readonly OutboxEvent[]): Promise<void> {
    await Promise.all(events.flatMap(jobsForEvent).map((job) => this.publisher.publish(job)));
    for (const source of this.sources) {
      const seqs = events.filter((e) => e.source === source.name).map((e) => e.seq);
      if (seqs.length > 0) {
        await source.cluster.onPrimary((sql) => markSent(sql, seqs));
        outboxEventsTotal.inc({ source: source.name, outcome: 'published' }, seqs.length);
      }
    }
  }

  /** Publish until every source is empty (or failing); returns the events published. */
  async drain(): Promise<number> {
    let total = 0;
    for (const source of this.sources) {
      for (;;) {
        const n = await this.publishBatch(source);
        total += n;
        if (n < this.options.OUTBOX_BATCH) {
          break;
        }
      }
    }
    return total;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.drain();
        if (this.housekeepingDue) {
          this.housekeepingDue = false;
          await this.housekeeping();
        }
      } catch (error) {
        // The events stay unsent and the next poll retries; say why once per failing pass.
        this.logger.warn(`outbox relay pass failed: ${(error as Error).message}`);
      }
    } while (this.again && !this.stopped);
  }

  private async publishBatch(source: OutboxSource): Promise<number> {
    return source.cluster.primaryTransaction(async (sql) => {
      const claimed = await claimUnsent(sql, source.name, this.options.OUTBOX_BATCH);
      if (claimed.length === 0) {
        return 0;
      }
      const jobs = claimed.flatMap((c) => jobsForEvent(c.event));
      try {
        await withDeadline(
          Promise.all(jobs.map((job) => this.publisher.publish(job))),
          this.options.publishTimeoutMs ?? ENQUEUE_DEADLINE_MS,
          'The job queue',
        );
      } catch (error) {
        outboxEventsTotal.inc({ source: source.name, outcome: 'failed' }, claimed.length);
        throw error;
      }
      await markSent(
        sql,
        claimed.map((c) => c.event.seq),
      );
      const now = Date.now();
      for (const c of claimed) {
        outboxPublishSeconds.observe(
          { source: source.name },
          Math.max(0, now - c.createdAt) / 1000,
        );
      }
      outboxEventsTotal.inc({ source: source.name, outcome: 'published' }, claimed.length);
      return claimed.length;
    });
  }

  /** The backlog gauges, and now and then the deletion of old sent events. */
  private async housekeeping(): Promise<void> {
    const purge = Date.now() - this.lastPurge > PURGE_EVERY_MS;
    if (purge) {
      this.lastPurge = Date.now();
    }
    for (const source of this.sources) {
      await source.cluster.primaryTransaction(async (sql) => {
        const b = await backlog(sql);
        outboxUnsent.set({ source: source.name }, b.unsent);
        outboxOldestUnsentSeconds.set({ source: source.name }, b.oldestSeconds);
        if (purge) {
          await purgeSent(sql, this.options.OUTBOX_RETAIN_HOURS);
        }
      });
    }
  }
}

export const OUTBOX_RELAY = Symbol('OUTBOX_RELAY');

@Injectable()
class OutboxRelayLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay) {}

  onApplicationBootstrap(): void {
    this.relay.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
  }
}

/**
 * Runs an outbox relay in this process over every database it opened (DatabaseModule): `main` in
 * the user service, each physical post shard in the post service. Provides OUTBOX_RELAY (hand it
 * the events a commit appended). The queues the events' jobs go to must be registered
 * (QueueModule.forRoot).
 */
@Module({})
export class OutboxModule {
  static forRoot(config: OutboxRelayOptions): DynamicModule {
    return {
      module: OutboxModule,
      global: true,
      providers: [
        {
          provide: OUTBOX_RELAY,
          inject: [DATABASE_CLUSTERS, JobQueues],
          useFactory: (clusters: ReplicatedCluster[], queues: JobQueues) =>
            new OutboxRelay(
              clusters.map((cluster) => ({ name: cluster.name, cluster })),
              queues,
              config,
            ),
        },
        OutboxRelayLifecycle,
      ],
      exports: [OUTBOX_RELAY],
    };
  }
}
