import { isIpOrCidr } from './ip-range';
import { z } from 'zod';

/** The non-empty, trimmed items of a comma-separated value. */
const items = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);

const csv = z.string().default('').transform(items);

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL');
const redisUrl = z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL');

const shardsJson = z
  .string()
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'must be JSON: [{"primary": url, "replicas": [url]}]',
      });
      return z.NEVER;
    }
  })
  .pipe(
    z.array(z.object({ primary: postgresUrl, replicas: z.array(postgresUrl).default([]) })).min(1),
  );

/** Overrides of the logical → physical shard map, e.g. `{"5": 1}` after moving logical shard 5. */
const shardMapJson = z
  .string()
  .default('{}')
  .transform((s, ctx) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object {"logical": physical}' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().regex(/^\d+$/), z.number().int().min(0)));

/** The OpenTelemetry instrumentations Murmur can load (libs/observability/src/telemetry.ts). */
export const TRACING_INSTRUMENTATION_NAMES = [
  'server',
  'http',
  'nestjs',
  'pg',
  'ioredis',
  'grpc',
  'pino',
] as const;
export type TracingInstrumentation = (typeof TRACING_INSTRUMENTATION_NAMES)[number];

/** Every process: identity, logging and tracing. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  SERVICE_NAME: z.enum(['user', 'post', 'feed', 'leaderboard']),
  INSTANCE_NAME: z.string().default('local'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OTEL_SERVICE_NAME: z.string().optional(),
  /** Unset means tracing is off: no exporter, no instrumentation overhead. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  TRACING_ENABLED: bool.default(true),
  /**
   * Which instrumentations tracing loads (comma-separated): each costs CPU on every request,
   * sampled or not (docs/tracing.md). `server` is Murmur's own server span per request (two
   * Fastify hooks); `http` is OpenTelemetry's HTTP instrumentation instead, which costs several
   * times more and is not loaded by default. `nestjs` (a span per controller handler, under the
   * server span that already names the route) is not loaded by default either: it was about half
   * of what tracing cost a cached profile read.
   */
  TRACING_INSTRUMENTATIONS: z
    .string()
    .default('server,pg,ioredis,grpc,pino')
    .transform(items)
    .pipe(z.array(z.enum(TRACING_INSTRUMENTATION_NAMES))),
  /**
   * Benchmarks only: every store's replies arrive this many ms late, as across a network
   * (libs/observability/src/simulated-latency.ts). 0 (the default) changes nothing.
   */
  SIMULATED_STORE_LATENCY_MS: z.coerce.number().min(0).max(50).default(0),
});

export const httpConfigSchema = z.object({
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(1).max(65535),
  /** Largest request body the service parses; NGINX has the same ceiling at the edge. */
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .default(64 * 1024),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * How many proxies (NGINX) stand in front: the client IP is at most that many hops back in
   * X-Forwarded-For. Trusting the whole header would let a client pick its own IP and dodge
   * per-IP rate limits.
   */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(1),
  /**
   * The addresses those proxies connect from (IPs or CIDRs, comma-separated): X-Forwarded-For is
   * read only from a peer in them, so a client that reaches a service port directly (a pod
   * inside the cluster) cannot choose the address it is counted under. Default: loopback, where
   * the local stack's NGINX is; a cluster sets its gateway pods' range (the pod CIDR).
   */
  TRUST_PROXY_ADDRESSES: csv.pipe(
    z
      .array(z.string().refine(isIpOrCidr, 'must be an IP address or CIDR (10.244.0.0/16)'))
      .transform((list) => (list.length === 0 ? ['127.0.0.0/8', '::1/128'] : list)),
  ),
  /**
   * Load shedding (libs/http/src/load-shedding.ts, docs/patterns/load-shedding.md): requests in
   * flight per process beyond which new ones get a fast 503 with Retry-After; 0 turns it off.
   */
  SHED_MAX_IN_FLIGHT: z.coerce.number().int().min(0).max(100_000).default(1_000),
  /** the longest queue time (edge → process) a burst may reach before requests are refused; 0: off */
  SHED_MAX_QUEUE_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  /** under a standing queue (none started within this for SHED_INTERVAL_MS), the limit drops to it */
  SHED_TARGET_QUEUE_MS: z.coerce.number().int().min(1).max(60_000).default(50),
  SHED_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /** a request still running after this gets a 503, before NGINX's proxy_read_timeout; 0: off */
  REQUEST_DEADLINE_MS: z.coerce.number().int().min(0).max(600_000).default(8_000),
});

export const mainDatabaseConfigSchema = z.object({
  DATABASE_URL: postgresUrl,
  DATABASE_REPLICA_URLS: csv.pipe(z.array(postgresUrl)),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** Switch for the benchmark: with replicas off every read goes to the primary. */
  READ_REPLICAS_ENABLED: bool.default(true),
  /** How often each replica's replay LSN is polled; reads re-check live when the cached one is behind. */
  REPLICA_LSN_POLL_MS: z.coerce.number().int().min(10).max(10_000).default(100),
});

export const shardDatabaseConfigSchema = z.object({
  SHARDS: shardsJson,
  SHARD_MAP: shardMapJson,
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  READ_REPLICAS_ENABLED: bool.default(true),
});

export const redisConfigSchema = z.object({
  /** Sessions, rate limits, timelines, leaderboards and queues (AOF, noeviction). */
  REDIS_URL: redisUrl,
  /** The L2 cache (LRU, no persistence); defaults to REDIS_URL. */
  CACHE_REDIS_URL: redisUrl.optional(),
  /**
   * Longest wait for one data-Redis command before it fails (and the request gets a 503): a
   * stalled Redis must not hold requests until NGINX gives up. Its slowest normal command (a
   * fan-in merge, a sliding-window script) takes single milliseconds; a request that needs two
   * (the route ceiling, then the session) still fails within a second.
   */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(10).max(30_000).default(300),
});

export const sessionConfigSchema = z.object({
  SESSION_IDLE_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(7 * 24 * 3600),
  SESSION_ABSOLUTE_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(30 * 24 * 3600),
  /**
   * How long a process may answer a session from its own memory instead of the data Redis (the
   * in-process session cache; docs/patterns/sessions.md). Revocations and new write positions
   * reach every process by pub/sub at once; this bounds how long a lost message could matter.
   * 0: every request asks Redis.
   */
  SESSION_CACHE_TTL_MS: z.coerce.number().int().min(0).max(10_000).default(2_000),
  /** Sessions one process keeps in that cache at most (least recently used go first). */
  SESSION_CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /**
   * The session cookie gets `Secure` and the `__Host-` prefix (`__Host-murmur_session`) unless
   * this is off, which only plain-HTTP local development needs (it then reads `murmur_session`).
   * Every service reads the cookie, so every service has the same value.
   */
  COOKIE_SECURE: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /**
   * Origins besides the API's own (`https://app.example`, comma-separated) whose pages may send
   * state-changing requests with the session cookie; requests with a bearer token are not
   * affected (CSRF: docs/patterns/sessions.md).
   */
  CSRF_TRUSTED_ORIGINS: csv.pipe(
    z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'must be an origin like https://app.example')),
  ),
});

const hostPort = z.string().regex(/^[\w.-]+:\d{1,5}$/, 'must be host:port');

export const cacheConfigSchema = z.object({
  CACHE_L1_ENABLED: bool.default(true),
  CACHE_L2_ENABLED: bool.default(true),
  /**
   * What L2 is: the cache Redis, or a set of Memcached nodes (MEMCACHED_SERVERS) behind
   * client-side consistent hashing. Tags and the invalidation broadcast stay on the cache Redis
   * either way (Memcached has no sets and no pub/sub).
   */
  CACHE_L2_BACKEND: z.enum(['redis', 'memcached']).default('redis'),
  /** the Memcached nodes, `host:port,host:port,…`; the same list in every process */
  MEMCACHED_SERVERS: csv.pipe(z.array(hostPort)),
  /** longest wait for one Memcached command; a node failing twice in a row is skipped */
  MEMCACHED_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(200),
  CACHE_L1_MAX_ENTRIES: z.coerce.number().int().min(1).default(10_000),
  /** L1's second bound: the bytes of its values' JSON, per cache and process (default 32 MiB) */
  CACHE_L1_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(32 * 1024 * 1024),
  CACHE_DEFAULT_TTL_SECONDS: z.coerce.number().int().min(1).default(300),
  /** how many hot keys each process loads into its caches at start-up (0: no warming) */
  CACHE_WARM_KEYS: z.coerce.number().int().min(0).max(100_000).default(1_000),
});

/** `N/S`: N requests per S seconds, e.g. `10/60`. */
const rule = (fallback: string) =>
  z
    .string()
    .regex(/^\d{1,6}\/\d{1,6}$/, 'must be N/S (requests per seconds), e.g. 10/60')
    .default(fallback)
    .transform((v: string) => {
      const [limit, windowSeconds] = v.split('/').map(Number);
      return { limit, windowSeconds };
    })
    .refine(
      (r: { limit: number; windowSeconds: number }) => r.limit > 0 && r.windowSeconds > 0,
      'N and S must be positive',
    );

export const rateLimitConfigSchema = z.object({
  RATE_LIMITS_ENABLED: bool.default(true),
  /** sign-ups per client IP (abuse) */
  RATE_LIMIT_SIGNUP_PER_IP: rule('20/3600'),
  /**
   * failed log-ins per client address, over all usernames (credential stuffing); successful ones
   * are not counted (libs/rate-limit/src/login-throttle.ts)
   */
  RATE_LIMIT_LOGIN_PER_IP: rule('100/300'),
  /** failed log-ins in a row on one account after which each further attempt waits */
  RATE_LIMIT_LOGIN_BACKOFF_AFTER: z.coerce.number().int().min(1).max(1_000).default(5),
  /** the first wait; it doubles with each further failure */
  RATE_LIMIT_LOGIN_BACKOFF_BASE_SECONDS: z.coerce.number().int().min(1).max(3_600).default(1),
  RATE_LIMIT_LOGIN_BACKOFF_MAX_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** an account's failures are forgotten this long after the last one (or at a right password) */
  RATE_LIMIT_LOGIN_FORGET_SECONDS: z.coerce.number().int().min(1).max(604_800).default(3_600),
  /** writes (posts, follows, likes) per user */
  RATE_LIMIT_WRITES_PER_USER: rule('60/60'),
  /**
   * every request of one signed-in user to one service (all its routes), whatever the route's own
   * policy: one user cannot take what the others need
   */
  RATE_LIMIT_PER_USER: rule('200/10'),
  /**
   * every request without a valid session (anonymous, or a token that will be refused) from one
   * client address to one service: an anonymous flood fills its own window, no user's
   */
  RATE_LIMIT_PER_ADDRESS: rule('300/10'),
});

export type RateLimitConfig = z.infer<typeof rateLimitConfigSchema>;

export const queueConfigSchema = z.object({
  QUEUE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  QUEUE_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  QUEUE_BACKOFF_MS: z.coerce.number().int().min(10).default(500),
  /**
   * How often a job may be found stalled (its worker died or stopped renewing its lock) and put
   * back to wait before it fails for good. BullMQ's default, 1, fails a job on its second crash.
   */
  QUEUE_MAX_STALLED_COUNT: z.coerce.number().int().min(0).max(100).default(3),
  /** How often each worker looks for stalled jobs (BullMQ's default). */
  QUEUE_STALLED_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /**
   * How long a job's lock lives without renewal (renewed every half of it while the job runs):
   * a crashed worker's jobs go back to wait at most this long after the crash plus two
   * QUEUE_STALLED_INTERVAL_MS. An event loop blocked for half of it makes a live job look stalled.
   */
  QUEUE_LOCK_DURATION_MS: z.coerce.number().int().min(200).max(600_000).default(30_000),
});

/** The transactional outbox and its relay (the processes that write events: user and post). */
export const outboxConfigSchema = z.object({
  /**
   * How often the outbox relay looks for unsent events (a write also wakes it at once: this is
   * the bound on how late an event left by a crashed process is published).
   */
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /**
   * How long a write waits, after its commit, for its own events to be published before it
   * answers anyway (they stay owed, and a poll publishes them): the jobs are normally queued
   * before the answer, as with a direct enqueue, and a stalled queue costs a write at most this.
   */
  OUTBOX_FLUSH_WAIT_MS: z.coerce.number().int().min(0).max(10_000).default(250),
  /** Events one relay pass claims and publishes in one transaction. */
  OUTBOX_BATCH: z.coerce.number().int().min(1).max(5_000).default(200),
  /** Sent events are kept this long (to look at, or to replay by hand), then deleted. */
  OUTBOX_RETAIN_HOURS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 30)
    .default(24),
});

/** Rebuilding the data Redis's derived state from Postgres (`npm run rebuild`, and by itself). */
export const rebuildConfigSchema = z.object({
  /**
   * How often the feed worker looks for the derived-state marker and, when the data Redis has
   * lost it, starts a rebuild; 0 = never by itself (only `npm run rebuild`).
   */
  REBUILD_CHECK_MS: z.coerce.number().int().min(0).max(3_600_000).default(1_000),
  /** Rows a rebuild reads from Postgres per page: the bound on what it holds in memory. */
  REBUILD_BATCH: z.coerce.number().int().min(100).max(100_000).default(5_000),
});

export const feedConfigSchema = z.object({
  /** Timelines keep this many newest post ids. */
  TIMELINE_MAX: z.coerce.number().int().min(10).max(10_000).default(800),
  /**
   * Fan-out on write: a home timeline is materialised on its reader's first read and expires
   * after this long without one (each read starts the count again); fan-out writes only into
   * timelines that exist, so the memory timelines take follows the readers, not the accounts.
   * 0 = never expire (a timeline, once read, is kept for good).
   */
  TIMELINE_IDLE_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(90 * 86_400)
    .default(7 * 86_400),
  POST_GRPC_URL: z.string().min(1),
  /**
   * Deadline of the feed's hydration call; past it the page is served from the posts the feed
   * process last saw, marked partial. A healthy call for a page of 20 takes single milliseconds.
   */
  POST_GRPC_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(400),
  /**
   * The feed process's L1 of hydrated posts: a post hydrated less than this long ago fills a page
   * without the gRPC call to the post service. Posts never change but for their like count, so
   * this is how far behind a count in a feed page may be (the post's own page and the like answer
   * show it live). 0 = off: every page asks the post service.
   */
  FEED_POST_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  /**
   * On: the worker pushes each new post into every follower's timeline and a feed page is one
   * sorted-set read (fan-out on write). Off: the worker writes only the author's own post list and
   * a page is merged at read time from the lists of the reader's followees (fan-in). Set it the
   * same on the feed API and the feed worker.
   */
  FANOUT_ON_WRITE: bool.default(true),
  /**
   * Fan-out on write pushes a post to its followers in jobs (chunks) of at most this many: a
   * worker crash redoes one chunk, not the whole audience. A post with at most this many
   * followers is pushed by its own job, without chunk jobs.
   */
  FANOUT_CHUNK_SIZE: z.coerce.number().int().min(1).max(100_000).default(1_000),
  /**
   * Fan-in reads at most this many of the reader's followees per page (one sorted-set read each);
   * posts of followees past the bound are not in that reader's feed.
   */
  FANIN_MAX_FOLLOWEES: z.coerce.number().int().min(1).max(100_000).default(1_000),
});

/** Likes: counters in Redis written behind to Postgres (or through, for comparison). */
export const likesConfigSchema = z.object({
  /**
   * On: a like is acknowledged once Redis holds it and a BullMQ job flushes pending likes to
   * Postgres in coalesced batches (about 4× the write throughput here), but a loss of the data
   * Redis loses the likes not yet flushed. Off (write-through, the default: nothing acknowledged
   * is lost): each like is a Postgres transaction before the answer. Switch only with the post
   * worker drained (no pending likes).
   */
  WRITE_BEHIND_ENABLED: bool.default(false),
  /** how long likes gather before a flush (the coalescing window) */
  WRITE_BEHIND_FLUSH_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  /** posts flushed per Postgres round (one transaction per physical shard) */
  WRITE_BEHIND_BATCH: z.coerce.number().int().min(1).max(5_000).default(500),
  /** how long an idle post's like set and counter stay in Redis after their last flush */
  LIKES_IDLE_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(24 * 3600),
});

export type BaseConfig = z.infer<typeof baseConfigSchema>;
export type HttpConfig = z.infer<typeof httpConfigSchema>;
export type MainDatabaseConfig = z.infer<typeof mainDatabaseConfigSchema>;
export type ShardDatabaseConfig = z.infer<typeof shardDatabaseConfigSchema>;
export type RedisConfig = z.infer<typeof redisConfigSchema>;
export type SessionConfig = z.infer<typeof sessionConfigSchema>;
export type CacheConfig = z.infer<typeof cacheConfigSchema>;
export type QueueConfig = z.infer<typeof queueConfigSchema>;
export type OutboxConfig = z.infer<typeof outboxConfigSchema>;
export type FeedConfig = z.infer<typeof feedConfigSchema>;
export type RebuildConfig = z.infer<typeof rebuildConfigSchema>;
export type LikesConfig = z.infer<typeof likesConfigSchema>;
