import { cacheLoadsTotal, cacheStaleServedTotal } from './cache.metrics';
import type { CacheClock, CacheEntry } from './cache-entry';
import type { RemoteCache } from './remote-cache';

export interface RefreshPolicyOptions<T> {
  cacheName: string;
  ttlSeconds: number;
  /** XFetch's beta: > 1 favours earlier refreshes, 0 switches XFetch off */
  xfetchBeta: number;
  /** refresh-ahead in the last part of the TTL (0.2 = last 20%); 0 switches it off */
  refreshAheadRatio: number;
  clock: CacheClock;
  /** one early refresh per key across processes; undefined = each process on its own */
  remote?: Pick<RemoteCache<T>, 'lease'>;
  /** adopt an entry another process refreshed into this process's L1 */
  adopt: (key: string, entry: CacheEntry<T>) => void;
}

/**
 * Early refresh, off the request path: XFetch (probabilistic early expiration, Vattani et al.)
 * and refresh-ahead decide when a read should reload its key in the background while the caller
 * gets the cached value now. At most one background load per key and process, and with L2 one
 * per key across processes (a lease).
 */
export class RefreshPolicy<T> {
  /** keys with an early refresh running in the background */
  private readonly refreshing = new Set<string>();

  constructor(private readonly options: RefreshPolicyOptions<T>) {}

  /**
   * True when a read now should refresh `entry` early. XFetch: now - delta * beta * ln(rand) >=
   * expiry (ln(rand) <= 0, so the chance rises as expiry nears and with the load's duration);
   * refresh-ahead: within the last `refreshAheadRatio` of the TTL.
   */
  isDue(entry: CacheEntry<T>): boolean {
    if (entry.v === null || entry.exp === undefined) {
      return false;
    }
    const now = this.options.clock.now();
    const { xfetchBeta: beta, refreshAheadRatio: ratio } = this.options;
    const xfetch =
      beta > 0 &&
      entry.d !== undefined &&
      now - entry.d * beta * Math.log(this.roll()) >= entry.exp;
    return xfetch || (ratio > 0 && entry.exp - now <= ratio * this.options.ttlSeconds * 1000);
  }

  /** Refresh `key` in the background with `load` if it is due and not being refreshed already. */
  maybeRefresh(key: string, entry: CacheEntry<T>, load: () => Promise<unknown>): void {
    // Not the read's single flight: under load a read of L2 is nearly always in flight for a hot
    // key, and an early refresh must not wait for a quiet moment that never comes.
    if (this.refreshing.has(key) || !this.isDue(entry)) {
      return;
    }
    this.refreshing.add(key);
    void this.lease(key, entry)
      .then(async (lease) => {
        if (lease === 'won') {
          await load();
          return;
        }
        cacheLoadsTotal.inc({ cache: this.options.cacheName, outcome: 'early_skipped' });
        if (lease !== 'busy' && lease.v !== null) {
          this.options.adopt(key, lease);
        }
      })
      // a failed early refresh costs nothing: the cached value is served until it expires
      .catch(() => undefined)
      .finally(() => this.refreshing.delete(key));
  }

  /** A value served while its early refresh runs is about to be replaced: stale-while-revalidate. */
  countServed(key: string): void {
    if (this.refreshing.has(key)) {
      cacheStaleServedTotal.inc({ cache: this.options.cacheName });
    }
  }

  /**
   * One early refresh per key across all processes, not one per process: if L2 already holds a
   * newer value, adopt it; else the process that takes the refresh lease loads and the others keep
   * serving. Without L2, or with L2 down, each process refreshes on its own.
   */
  private async lease(key: string, held: CacheEntry<T>): Promise<CacheEntry<T> | 'won' | 'busy'> {
    const leaseMs = Math.min(10_000, Math.max(200, 3 * (held.d ?? 0)));
    const answer = await this.options.remote?.lease(key, held.exp ?? 0, leaseMs);
    return answer ? answer.ok : 'won';
  }

  private roll(): number {
    // Never 0: ln(0) would be -Infinity, a certain refresh.
    return Math.max(Number.EPSILON, this.options.clock.random());
  }
}
