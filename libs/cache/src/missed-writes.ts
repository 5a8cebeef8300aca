import type { RemoteCache } from './remote-cache';

const MAX_MISSED_WRITES = 10_000;
const REPLAY_BATCH = 500;

/**
 * Keys whose write-through or delete could not reach L2: L2 may still hold their old value.
 * When L2 is back they are deleted there and announced to every L1. Bounded: past the bound the
 * TTL is the backstop.
 */
export class MissedWrites {
  private readonly keys = new Set<string>();

  constructor(
    private readonly remote: Pick<RemoteCache<unknown>, 'delete'>,
    private readonly announce: (keys: string[]) => Promise<void>,
    private readonly bound = MAX_MISSED_WRITES,
  ) {}

  get size(): number {
    return this.keys.size;
  }

  add(key: string): void {
    if (this.keys.size < this.bound) {
      this.keys.add(key);
    }
  }

  /** L2 is reachable again: drop what it may hold stale, everywhere. */
  async replay(): Promise<void> {
    const keys = [...this.keys];
    this.keys.clear();
    for (let i = 0; i < keys.length; i += REPLAY_BATCH) {
      const batch = keys.slice(i, i + REPLAY_BATCH);
      if (!(await this.remote.delete(batch))) {
        // this batch and the ones after it wait for the next recovery
        keys.slice(i).forEach((k) => this.add(k));
        return;
      }
      await this.announce(batch);
    }
  }
}
