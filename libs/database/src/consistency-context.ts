import { AsyncLocalStorage } from 'node:async_hooks';
import { maxLsn } from './lsn';

/**
 * Per-request consistency state. The HTTP layer opens a context for each request; the auth guard
 * fills it from the caller's session (the WAL positions of the caller's last writes, per cluster)
 * and gives it a way to remember new ones. Reads consult it to decide whether a replica is fresh
 * enough for this caller.
 */
export interface ConsistencyState {
  minLsn: Record<string, string>;
  /** epoch ms of the caller's last write, if known */
  lastWriteAt?: number;
  /** persist a write position for the caller (e.g. in their session) */
  onWrite?: (cluster: string, lsn: string) => Promise<void>;
}

const storage = new AsyncLocalStorage<ConsistencyState>();

export const ConsistencyContext = {
  run<T>(state: ConsistencyState, fn: () => T): T {
    return storage.run(state, fn);
  },
  current(): ConsistencyState | undefined {
    return storage.getStore();
  },
  requiredLsn(cluster: string): string | undefined {
    return storage.getStore()?.minLsn[cluster];
  },
  /** Did the caller write within `withinMs`? (then process-local caches may be stale for them) */
  wroteWithin(withinMs: number): boolean {
    const at = storage.getStore()?.lastWriteAt;
    return at !== undefined && Date.now() - at < withinMs;
  },
  async noteWrite(cluster: string, lsn: string): Promise<void> {
    const state = storage.getStore();
    if (!state) {
      return;
    }
    state.minLsn[cluster] = maxLsn(state.minLsn[cluster], lsn);
    state.lastWriteAt = Date.now();
    await state.onWrite?.(cluster, state.minLsn[cluster]);
  },
};
