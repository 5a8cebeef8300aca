import { cacheEvictionsTotal, cacheRequestsTotal } from './cache.metrics';
import { LRUCache } from 'lru-cache';
import type { CacheEntry } from './cache-entry';

export interface LocalCacheOptions {
  maxEntries: number;
  /** the UTF-8 length of each value's JSON, summed; unset = bounded by entries only */
  maxBytes?: number;
  ttlSeconds: number;
  /** the clock the TTL is measured on; unset = lru-cache's own monotonic clock */
  now?: () => number;
}

/**
 * L1: this process's bounded LRU with a TTL. Bounded twice, by entries and by bytes, so a few
 * huge values cannot crowd the heap; least recently used goes first, the TTL caps staleness.
 */
export class LocalCache<T> {
  private readonly lru: LRUCache<string, CacheEntry<T>>;

  /** `onRemoved` hears of every key that leaves other than by being replaced. */
  constructor(
    private readonly cacheName: string,
    options: LocalCacheOptions,
    onRemoved: (key: string) => void = () => undefined,
  ) {
    this.lru = new LRUCache<string, CacheEntry<T>>({
      max: options.maxEntries,
      ...(options.maxBytes
        ? {
            maxSize: options.maxBytes,
            sizeCalculation: (entry: CacheEntry<T>) =>
              Math.max(1, Buffer.byteLength(JSON.stringify(entry.v) ?? '')),
          }
        : {}),
      ttl: options.ttlSeconds * 1000,
      // an injected clock is read at every check: lru-cache's 1 ms debounce runs on real time
      ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
      // Only evictions and expiries are worth counting; `set`/`delete` replace on purpose.
      dispose: (_value, key, reason) => {
        if (reason !== 'set') {
          onRemoved(key);
        }
        if (reason === 'evict' || reason === 'expire') {
          cacheEvictionsTotal.inc({ cache: cacheName, layer: 'l1', reason });
        }
      },
    });
  }

  /** A read: counted as an L1 hit or miss, and makes the entry the most recently used. */
  get(key: string): CacheEntry<T> | undefined {
    const entry = this.lru.get(key);
    cacheRequestsTotal.inc({ cache: this.cacheName, layer: 'l1', result: entry ? 'hit' : 'miss' });
    return entry;
  }

  /** A look without counting or reordering (to compare versions before a write). */
  peek(key: string): CacheEntry<T> | undefined {
    return this.lru.peek(key);
  }

  set(key: string, entry: CacheEntry<T>): void {
    this.lru.set(key, entry);
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  /** Empty this process's L1 (L2 and the other processes keep theirs). */
  clear(): void {
    this.lru.clear();
  }
}
