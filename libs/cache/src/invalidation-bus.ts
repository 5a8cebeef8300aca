import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';

export const INVALIDATION_CHANNEL = 'murmur:cache:invalidate';

interface InvalidationMessage {
  origin: string;
  cache: string;
  keys: string[];
}

type Listener = (keys: string[]) => void;

/**
 * Best-effort broadcast of L1 invalidations to every process. A lost message (Redis down, a
 * process reconnecting) leaves a stale L1 entry until its TTL: that is the accepted bound.
 */
export class InvalidationBus {
  readonly origin = randomUUID();
  private readonly listeners = new Map<string, Listener>();
  private readonly logger = new Logger('InvalidationBus');
  private subscriber?: Redis;

  constructor(private readonly publisher?: Redis) {}

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
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  register(cache: string, listener: Listener): void {
    this.listeners.set(cache, listener);
  }

  async publish(cache: string, keys: string[]): Promise<void> {
    if (!this.publisher || keys.length === 0) {
      return;
    }
    const message: InvalidationMessage = { origin: this.origin, cache, keys };
    await this.publisher
      .publish(INVALIDATION_CHANNEL, JSON.stringify(message))
      .catch(() => undefined);
  }

  private onMessage(raw: string): void {
    try {
      const message = JSON.parse(raw) as InvalidationMessage;
      if (message.origin !== this.origin) {
        this.listeners.get(message.cache)?.(message.keys);
      }
    } catch {
      // A malformed message is ignored: TTL bounds any staleness.
    }
  }
}
