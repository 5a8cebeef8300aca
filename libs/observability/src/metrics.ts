import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One Prometheus registry per process. Metric objects are created once here (prom-client refuses
 * duplicates) and shared by the libs that record into them.
 */
export const metricsRegistry = new Registry();
let defaultsCollected = false;

export function initDefaultMetrics(labels: Record<string, string>): void {
  if (defaultsCollected) {
    return;
  }
  defaultsCollected = true;
  metricsRegistry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: metricsRegistry });
}

export const httpRequestDuration = new Histogram({
  name: 'murmur_http_request_duration_seconds',
  help: 'HTTP request latency by route and status (golden signals: rate, errors, latency)',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

export const dbReadsTotal = new Counter({
  name: 'murmur_db_reads_total',
  help: 'Reads by cluster and the node that served them; reason says why the primary was used',
  labelNames: ['cluster', 'target', 'reason'] as const,
  registers: [metricsRegistry],
});

export const dbReplicaLagSeconds = new Gauge({
  name: 'murmur_db_replica_lag_seconds',
  help: 'Seconds since the last transaction replayed on a replica (as seen by this process)',
  labelNames: ['cluster', 'replica'] as const,
  registers: [metricsRegistry],
});

export const shardQueriesTotal = new Counter({
  name: 'murmur_shard_queries_total',
  help: 'Queries per physical shard (shard load)',
  labelNames: ['shard', 'kind'] as const,
  registers: [metricsRegistry],
});

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

export const queueJobsTotal = new Counter({
  name: 'murmur_queue_jobs_total',
  help: 'BullMQ jobs processed by queue, job name and outcome',
  labelNames: ['queue', 'job', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const queueDepth = new Gauge({
  name: 'murmur_queue_depth',
  help: 'Jobs waiting, active, delayed and failed per queue',
  labelNames: ['queue', 'state'] as const,
  registers: [metricsRegistry],
});

export const queueLagSeconds = new Histogram({
  name: 'murmur_queue_lag_seconds',
  help: 'Time from enqueue to the start of processing',
  labelNames: ['queue'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

export const outboxEventsTotal = new Counter({
  name: 'murmur_outbox_events_total',
  help: 'Outbox events by source database and outcome (published; failed or deferred: left for the next poll)',
  labelNames: ['source', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const outboxUnsent = new Gauge({
  name: 'murmur_outbox_unsent',
  help: 'Outbox events not yet published, per source database (polled)',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

export const outboxOldestUnsentSeconds = new Gauge({
  name: 'murmur_outbox_oldest_unsent_seconds',
  help: 'Age of the oldest unpublished outbox event, per source database (polled)',
  labelNames: ['source'] as const,
  registers: [metricsRegistry],
});

export const outboxPublishSeconds = new Histogram({
  name: 'murmur_outbox_publish_seconds',
  help: 'Time from an event commit to its publication by a poll (the events a write could not publish itself)',
  labelNames: ['source'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

export const rpcClientDuration = new Histogram({
  name: 'murmur_rpc_client_duration_seconds',
  help: 'Service-to-service call latency by method and outcome',
  labelNames: ['method', 'outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [metricsRegistry],
});

export const rateLimitDecisionsTotal = new Counter({
  name: 'murmur_rate_limit_decisions_total',
  help: 'Rate-limit decisions by policy: allowed, refused, or failed open/closed when Redis could not answer',
  labelNames: ['policy', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const rpcServerRequestsTotal = new Counter({
  name: 'murmur_rpc_server_requests_total',
  help: 'Service-to-service calls served, by method and outcome (shows how calls spread over replicas)',
  labelNames: ['method', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const likeWritesTotal = new Counter({
  name: 'murmur_like_writes_total',
  help: 'Likes and unlikes accepted, by mode (behind: acknowledged from Redis; through: committed to Postgres first)',
  labelNames: ['mode', 'op'] as const,
  registers: [metricsRegistry],
});

export const likeFlushesTotal = new Counter({
  name: 'murmur_like_flushed_total',
  help: 'Write-behind flushes: rounds, posts written and like changes carried (changes per post and posts per round show the coalescing)',
  labelNames: ['unit'] as const,
  registers: [metricsRegistry],
});

export const likesPendingPosts = new Gauge({
  name: 'murmur_likes_pending_posts',
  help: 'Posts with like changes in Redis not yet written to Postgres',
  registers: [metricsRegistry],
});

export const feedTimelineReadSeconds = new Histogram({
  name: 'murmur_feed_timeline_read_seconds',
  help: 'Time to read a home-timeline page of post ids from Redis, by feed mode (fan-out: one sorted set; fan-in: merged from every followee at read time); hydration not included',
  labelNames: ['mode'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [metricsRegistry],
});

export const cacheWarmedTotal = new Counter({
  name: 'murmur_cache_warmed_total',
  help: 'Entries loaded into a cache at start-up (warming), by cache',
  labelNames: ['cache'] as const,
  registers: [metricsRegistry],
});

export const httpShedTotal = new Counter({
  name: 'murmur_http_shed_total',
  help: 'Requests refused with 503 before any work: queued too long, too many in flight, or past their deadline',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

export const httpInFlight = new Gauge({
  name: 'murmur_http_in_flight',
  help: 'Requests this process is working on now (probes and scrapes excluded)',
  registers: [metricsRegistry],
});

export const httpQueueSeconds = new Histogram({
  name: 'murmur_http_queue_seconds',
  help: 'Time from the edge receiving a request (X-Request-Start) to this process starting it',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [metricsRegistry],
});

export const feedPartialPagesTotal = new Counter({
  name: 'murmur_feed_partial_pages_total',
  help: 'Feed pages served from the last known posts because the post service could not be asked in time',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});
