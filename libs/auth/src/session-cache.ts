import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Session } from './session-store';

/** The channel on which every change to a session (revoked, a new write position) is announced. */
export const SESSION_CHANGES_CHANNEL = 'murmur:session-changes';

export interface SessionCacheOptions {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

interface Entry {
  session: Session;
  /** epoch ms after which Redis must be asked again */
  until: number;
}

const copy = (session: Session): Session => ({ ...session, lsn: { ...session.lsn } });

/**
 * Sessions this process read from Redis, kept for `ttlMs` so that a caller's next requests need
 * no Redis round trip. Only trusted while this process is subscribed to the session-change
 * channel: a revocation or a new write position published by any process drops the entry here,
 * and when the subscription is lost (Redis gone, reconnecting) the cache is emptied and not used
 * until it is back, since messages may have been missed meanwhile. What it does not give:
 * a change reaches this process by pub/sub, so a request that arrives here before the message
 * would still see the old session — in practice the message leaves Redis before the write or
 * logout is even acknowledged, so it is ahead of the caller's next request; the TTL bounds the
 * case where it is lost.
 */
export class SessionCache {
  private readonly logger = new Logger(SessionCache.name);
  private readonly entries: LRUCache<string, Entry>;
  private readonly now: () => number;
  private listening = false;
  private closed = false;

  constructor(
    private readonly subscriber: Redis,
    private readonly options: SessionCacheOptions,
  ) {
    this.entries = new LRUCache({ max: options.maxEntries });
    this.now = options.now ?? Date.now;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === SESSION_CHANGES_CHANNEL) {
        for (const id of message.split(',')) {
          this.entries.delete(id);
        }
      }
    });
    const lost = (): void => {
      this.listening = false;
      this.entries.clear();
    };
    subscriber.on('close', lost);
    subscriber.on('reconnecting', lost);
    subscriber.on('ready', () => void this.subscribe());
    if (subscriber.status === 'ready') {
      void this.subscribe();
    }
  }

  /** Whether entries are being served (subscribed); for tests and readiness details. */
  get active(): boolean {
    return this.listening;
  }

  private async subscribe(): Promise<void> {
    try {
      await this.subscriber.subscribe(SESSION_CHANGES_CHANNEL);
      // Whatever was cached before this subscription may have missed a message.
      this.entries.clear();
      this.listening = !this.closed;
    } catch (error) {
      this.listening = false;
      if (!this.closed) {
        this.logger.warn(`session-change subscription failed: ${(error as Error).message}`);
      }
    }
  }

  get(id: string): Session | undefined {
    if (!this.listening) {
      return undefined;
    }
    const entry = this.entries.get(id);
    if (!entry) {
      return undefined;
    }
    if (entry.until <= this.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return copy(entry.session);
  }

  /** Keep a session read from Redis, never past its absolute end. */
  put(session: Session, expiresAt: number): void {
    if (!this.listening) {
      return;
    }
    const until = Math.min(this.now() + this.options.ttlMs, expiresAt);
    if (until > this.now()) {
      this.entries.set(session.id, { session: copy(session), until });
    }
  }

  /** This process changed the session: its own next read must see the change at once. */
  drop(ids: string[]): void {
    for (const id of ids) {
      this.entries.delete(id);
    }
  }

  close(): Promise<void> {
    this.closed = true;
    this.listening = false;
    this.entries.clear();
    this.subscriber.disconnect();
    return Promise.resolve();
  }
}
