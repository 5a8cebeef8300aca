import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import CircuitBreaker from 'opossum';
import { openAfterConsecutiveFailures } from './breaker';

export const INVALIDATION_CHANNEL = 'murmur:cache:invalidate';

interface InvalidationMessage {
  origin: string;
  cache: string;
  keys: string[];
  /** tags invalidated: each process drops the keys it tagged locally */
  tags?: string[];
}

type Listener = (keys: string[], tags: string[]) => void;

/**
 * Best-effort broadcast of L1 invalidations to every process. A lost message (Redis down, a
 * process reconnecting) leaves a stale L1 entry until its TTL: that is the accepted bound.
 */
export class InvalidationBus {
  readonly origin = randomUUID();
  private readonly listeners = new Map<string, Listener>();
  private readonly logger = new Logger('InvalidationBus');
  private subscriber?: Redis;
  // A hung cache Redis would make every write-through wait for the publish timeout: after a few
  // failures, publishing is skipped (the L1 TTL bounds what is missed) until a trial succeeds.
  private readonly breaker = new CircuitBreaker((message: string) => this.send(message), {
    timeout: 300,
    errorThresholdPercentage: 50,
    volumeThreshold: 5,
    resetTimeout: 5_000,
    // a short window, so a busy healthy minute does not outvote a hung Redis (see cache.ts)
    rollingCountTimeout: 1_000,
    rollingCountBuckets: 10,
    name: 'cache-invalidation-bus',
  });

  constructor(private readonly publisher?: Redis) {
    openAfterConsecutiveFailures(this.breaker, 3);
  }

  async start(): Promise<void> {
    if (!this.publisher) {
      return;
    }
    // A subscribed connection cannot run other commands: use a dedicated one.
    this.subscriber = this.publisher.duplicate({
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, raw: string) => this.onMessage(raw));
    await this.subscriber.subscribe(INVALIDATION_CHANNEL).catch((error: Error) => {
      this.logger.warn(`cannot subscribe (${error.message}); L1 entries expire by TTL only`);
    });
  }

  async stop(): Promise<void> {
    this.breaker.shutdown();
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  register(cache: string, listener: Listener): void {
    this.listeners.set(cache, listener);
  }

  async publish(cache: string, keys: string[], tags: string[] = []): Promise<void> {
    if (!this.publisher || (keys.length === 0 && tags.length === 0)) {
      return;
    }
    const message: InvalidationMessage = { origin: this.origin, cache, keys, tags };
    await this.breaker.fire(JSON.stringify(message)).catch(() => undefined);
  }

  private async send(message: string): Promise<void> {
    await this.publisher?.publish(INVALIDATION_CHANNEL, message);
  }

  private onMessage(raw: string): void {
    try {
      const message = JSON.parse(raw) as InvalidationMessage;
      if (message.origin !== this.origin) {
        this.listeners.get(message.cache)?.(message.keys, message.tags ?? []);
      }
    } catch {
      // A malformed message is ignored: TTL bounds any staleness.
    }
  }
}
