import { metricsRegistry } from '@murmur/observability';
import { Counter, Gauge, Histogram } from 'prom-client';

/** The cache's own metrics (every cache in a process, by its name and layer). */

export const cacheRequestsTotal = new Counter({
  name: 'murmur_cache_requests_total',
  help: 'Cache lookups by cache name, layer and result (hit ratio = hit / (hit + miss) per layer)',
  labelNames: ['cache', 'layer', 'result'] as const,
  registers: [metricsRegistry],
});

/** hits / (hits + misses) per cache and layer since the process started, computed at scrape */
export const cacheHitRatio = new Gauge({
  name: 'murmur_cache_hit_ratio',
  help: 'Hit ratio per cache and layer since the process started (hit / (hit + miss)); for a windowed ratio use rate() of murmur_cache_requests_total',
  labelNames: ['cache', 'layer'] as const,
  registers: [metricsRegistry],
  async collect() {
    const totals = new Map<string, { cache: string; layer: string; hit: number; miss: number }>();
    for (const v of (await cacheRequestsTotal.get()).values) {
      const cache = String(v.labels.cache);
      const layer = String(v.labels.layer);
      const t = totals.get(`${cache}\u0000${layer}`) ?? { cache, layer, hit: 0, miss: 0 };
      if (v.labels.result === 'hit' || v.labels.result === 'miss') {
        t[v.labels.result] += v.value;
      }
      totals.set(`${cache}\u0000${layer}`, t);
    }
    this.reset();
    for (const t of totals.values()) {
      if (t.hit + t.miss > 0) {
        this.set({ cache: t.cache, layer: t.layer }, t.hit / (t.hit + t.miss));
      }
    }
  },
});

export const cacheStaleServedTotal = new Counter({
  name: 'murmur_cache_stale_served_total',
  help: 'Reads answered with a cached value while its early refresh (XFetch, refresh-ahead) was running: stale-while-revalidate. No value is served past its TTL.',
  labelNames: ['cache'] as const,
  registers: [metricsRegistry],
});

export const cacheLoadsTotal = new Counter({
  name: 'murmur_cache_loads_total',
  help: 'Source loads by outcome: loaded (miss), early (XFetch or refresh-ahead), early_skipped (another process holds the refresh lease), refreshed (Cache-Control: no-cache), collapsed (joined an in-flight load), uncached (a tagged load too close to an invalidation of its tag, served but not cached)',
  labelNames: ['cache', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const cacheLoadDurationSeconds = new Histogram({
  name: 'murmur_cache_load_duration_seconds',
  help: 'Time spent in the source loader per cache (what a miss costs; XFetch scales by it)',
  labelNames: ['cache'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [metricsRegistry],
});

export const cacheEvictionsTotal = new Counter({
  name: 'murmur_cache_evictions_total',
  help: 'L1 entries dropped by the LRU bound (evict) or by their TTL (expire)',
  labelNames: ['cache', 'layer', 'reason'] as const,
  registers: [metricsRegistry],
});

export const cacheL2BreakerOpen = new Gauge({
  name: 'murmur_cache_l2_breaker_open',
  help: '1 while a cache skips its L2 because L2 calls failed (circuit open or half-open), else 0',
  labelNames: ['cache'] as const,
  registers: [metricsRegistry],
});

export const cacheWarmedTotal = new Counter({
  name: 'murmur_cache_warmed_total',
  help: 'Entries loaded into a cache at start-up (warming), by cache',
  labelNames: ['cache'] as const,
  registers: [metricsRegistry],
});

export const cacheInvalidEntriesTotal = new Counter({
  name: 'murmur_cache_invalid_entries_total',
  help: 'Entries read from L2 that were refused, by cache and reason: json (not JSON) or shape (not the envelope or the cache’s schema). Each is read as a miss (also counted there), deleted and replaced from the source; anything above 0 means something other than the services wrote to the cache store',
  labelNames: ['cache', 'reason'] as const,
  registers: [metricsRegistry],
});
