import {
  cacheEvictionsTotal,
  cacheL2BreakerOpen,
  cacheLoadDurationSeconds,
  cacheLoadsTotal,
  cacheRequestsTotal,
  cacheStaleServedTotal,
} from '@murmur/observability';
import CircuitBreaker from 'opossum';
import { LRUCache } from 'lru-cache';
import { openAfterConsecutiveFailures } from './breaker';
import type { InvalidationBus } from './invalidation-bus';

/** The L2 commands the cache uses; ioredis's `Redis` satisfies it, unit tests pass typed fakes. */
export interface L2Client {
  get(key: string): Promise<string | null>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
}

export interface L2BreakerOptions {
  /** failures (in %) over the rolling window that open the breaker */
  errorThresholdPercentage: number;
  /** calls in the window before the breaker may open */
  volumeThreshold: number;
  /** how long the breaker stays open before one trial call */
  resetTimeoutMs: number;
  /** a hung L2 call counts as a failure after this long */
  timeoutMs: number;
  /**
   * The rolling window the failure percentage is computed over. Short on purpose: over opossum's
   * default 10 s, the successes of a busy healthy period outvote the failures of a hung Redis for
   * seconds, and every read meanwhile waits for a timeout.
   */
  windowMs: number;
  /** failures in a row that open the breaker whatever the window says */
  consecutiveFailures: number;
}

export const DEFAULT_L2_BREAKER: L2BreakerOptions = {
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  resetTimeoutMs: 2_000,
  timeoutMs: 300,
  windowMs: 1_000,
  consecutiveFailures: 3,
};

export interface CacheOptions<T> {
  name: string;
  ttlSeconds: number;
  /** how long "not found" is remembered; 0 disables negative caching */
  negativeTtlSeconds: number;
  /**
   * L1 is bounded twice: by entries and by bytes (the UTF-8 length of each value's JSON, so a few
   * huge values cannot crowd the heap). Least recently used goes first; the TTL caps staleness.
   */
  l1: { enabled: boolean; maxEntries: number; maxBytes?: number; ttlSeconds?: number };
  /** the L2 connection; undefined disables L2 */
  l2?: L2Client;
  /** circuit breaker around L2: while open, reads go straight to the source without a timeout */
  l2Breaker?: Partial<L2BreakerOptions>;
  bus?: InvalidationBus;
  /**
   * A monotonically increasing version of a value (e.g. updated_at in ms). With it, L2 refuses to
   * replace a newer value with an older one, so a slow reader that loaded before a write cannot
   * re-cache the old value after the write-through.
   */
  versionOf?: (value: T) => number;
  /**
   * XFetch (probabilistic early expiration, Vattani et al.): a read refreshes the value in the
   * background with a probability that rises as expiry nears and with how long the load took,
   * so one reader, not a stampede, reloads a hot key. `beta` > 1 favours earlier refreshes;
   * 0 switches it off. Default 1.
   */
  xfetchBeta?: number;
  /**
   * Refresh-ahead for hot keys: a read in the last `refreshAheadRatio` of the TTL (0.2 = last
   * 20%) reloads in the background, so a key read steadily never expires under its readers.
   * 0 (default) switches it off.
   */
  refreshAheadRatio?: number;
  /**
   * A tagged load that started less than this long after an invalidation of one of its tags is
   * returned but not cached: it may have read a replica that had not yet replayed the change the
   * invalidation announced, or started before the change. Default 1000 ms.
   */
  tagGraceMs?: number;
  /** injected for tests: the clock (ms) and the random source of XFetch */
  now?: () => number;
  random?: () => number;
}

interface Envelope<T> {
  /** null = cached "not found" */
  v: T | null;
  ver: number;
  /** how long the load took (ms), for XFetch */
  d?: number;
  /** when the value expires (epoch ms), for XFetch and refresh-ahead */
  exp?: number;
}

/**
 * SET only if the stored version is not newer. KEYS[1]; ARGV: payload, version, ttl in ms (ms, so
 * the ±10% jitter of a short TTL is not rounded away).
 */
const SET_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and decoded.ver and tonumber(decoded.ver) > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
`;

const MAX_MISSED_WRITES = 10_000;

/**
 * Tag a key: SADD to the tag's set, keep the set alive at least as long as the entry, and prune
 * a few random members whose entry is gone, so a tag set does not grow forever (no KEYS, no full
 * scan). KEYS[1] tag set; ARGV: member, ttl seconds, sample size, entry key prefix.
 */
const TAG_ADD = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
local sample = redis.call('SRANDMEMBER', KEYS[1], ARGV[3])
for _, m in ipairs(sample) do
  if redis.call('EXISTS', ARGV[4] .. m) == 0 then redis.call('SREM', KEYS[1], m) end
end
return 1
`;

/**
 * Invalidate a batch of a tag: SPOP up to ARGV[1] members, delete their entries, return them.
 * Called until it returns fewer than the batch. KEYS[1] tag set; ARGV: batch, entry key prefix.
 */
const TAG_POP = `
local members = redis.call('SPOP', KEYS[1], ARGV[1])
for _, m in ipairs(members) do redis.call('DEL', ARGV[2] .. m) end
return members
`;
const TAG_BATCH = 500;

/**
 * Before an early refresh: is L2's value already newer than the one this process holds (another
 * process refreshed it)? Then return it. Otherwise take the key's refresh lease (SET NX PX): 1 if
 * this process won and should load, 0 if another process is loading right now.
 * KEYS[1] entry, KEYS[2] lease; ARGV: expiry (ms) of the value held, lease ms, owner token.
 */
const REFRESH_LEASE = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and decoded.exp and tonumber(decoded.exp) > tonumber(ARGV[1]) then return current end
end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`;
/** how long the time of a tag's last invalidation is remembered (ms) */
const TAG_INVALIDATED_MEMORY_MS = 60_000;
const TAG_PRUNE_SAMPLE = 3;

/** ±10% so that keys written together do not all expire together. */
function jitter(seconds: number): number {
  return seconds * (0.9 + Math.random() * 0.2);
}

export class Cache<T> {
  private readonly l1?: LRUCache<string, Envelope<T>>;
  private readonly inflight = new Map<string, Promise<T | null>>();
  /** L2 calls that failed so far (a read that saw one skips its L2 store) */
  private l2Failures = 0;
  /** keys with an early refresh (XFetch, refresh-ahead) running in the background */
  private readonly refreshing = new Set<string>();
  private readonly breaker?: CircuitBreaker<[() => Promise<unknown>], unknown>;
  /**
   * Keys whose write-through or delete could not reach L2: L2 may still hold their old value.
   * When L2 is back they are deleted there and invalidated in every L1. Bounded: past the bound
   * the TTL is the backstop.
   */
  private readonly missedWrites = new Set<string>();
  /** this process's L1 keys by tag (and back), so a tag invalidation needs no L2 to reach L1 */
  private readonly localTags = new Map<string, Set<string>>();
  private readonly tagsOfKey = new Map<string, string[]>();
  /** when each tag was last invalidated (ms), as this process heard it */
  private readonly tagInvalidatedAt = new Map<string, number>();

  constructor(private readonly options: CacheOptions<T>) {
    if (options.l2) {
      const b = { ...DEFAULT_L2_BREAKER, ...options.l2Breaker };
      // One breaker per cache: every L2 call goes through it, so a dead or hung Redis costs a few
      // failed calls, then none until the trial call after `resetTimeoutMs` succeeds again.
      this.breaker = new CircuitBreaker((op: () => Promise<unknown>) => op(), {
        timeout: b.timeoutMs,
        errorThresholdPercentage: b.errorThresholdPercentage,
        volumeThreshold: b.volumeThreshold,
        resetTimeout: b.resetTimeoutMs,
        rollingCountTimeout: b.windowMs,
        rollingCountBuckets: 10,
        name: `cache:${options.name}`,
      });
      openAfterConsecutiveFailures(this.breaker, b.consecutiveFailures);
      cacheL2BreakerOpen.set({ cache: options.name }, 0);
      this.breaker.on('open', () => cacheL2BreakerOpen.set({ cache: options.name }, 1));
      this.breaker.on('close', () => {
        cacheL2BreakerOpen.set({ cache: options.name }, 0);
        void this.replayMissedWrites();
      });
    }
    if (options.l1.enabled) {
      this.l1 = new LRUCache<string, Envelope<T>>({
        max: options.l1.maxEntries,
        ...(options.l1.maxBytes
          ? {
              maxSize: options.l1.maxBytes,
              sizeCalculation: (envelope: Envelope<T>) =>
                Math.max(1, Buffer.byteLength(JSON.stringify(envelope.v) ?? '')),
            }
          : {}),
        ttl: (options.l1.ttlSeconds ?? options.ttlSeconds) * 1000,
        // Only evictions and expiries are worth counting; `set`/`delete` replace on purpose.
        dispose: (_value, key, reason) => {
          if (reason !== 'set') {
            this.untagLocal(key);
          }
          if (reason === 'evict' || reason === 'expire') {
            cacheEvictionsTotal.inc({ cache: options.name, layer: 'l1', reason });
          }
        },
      });
    }
    options.bus?.register(options.name, (keys, tags) => {
      keys.forEach((k) => this.l1?.delete(k));
      tags.forEach((t) => {
        this.noteTagInvalidated(t, this.now());
        this.dropLocalTag(t);
      });
    });
  }

  get name(): string {
    return this.options.name;
  }

  /** True while L2 is skipped because it failed (the breaker is open). */
  get l2Open(): boolean {
    return this.breaker?.opened ?? false;
  }

  /**
   * Multi-get: L1 for every key, then one MGET on L2 for the L1 misses, then one `loadMissing`
   * call for what neither layer had. `loadMissing` returns the values it found by key; keys it
   * leaves out are "not found" (not cached). Result: a value or null per key asked.
   */
  async getMany(
    keys: string[],
    loadMissing: (missing: string[]) => Promise<Map<string, T>>,
  ): Promise<Map<string, T | null>> {
    const result = new Map<string, T | null>();
    const unique = [...new Set(keys)];
    let missing: string[] = [];
    for (const key of unique) {
      const local = this.l1?.get(key);
      if (local) {
        this.count('l1', 'hit');
        result.set(key, local.v);
      } else {
        if (this.l1) {
          this.count('l1', 'miss');
        }
        missing.push(key);
      }
    }
    if (missing.length > 0 && this.options.l2) {
      const remote = await this.readManyL2(missing);
      missing = missing.filter((key) => {
        const envelope = remote.get(key);
        if (!envelope) {
          return true;
        }
        if (envelope.v !== null) {
          this.l1?.set(key, envelope);
        }
        result.set(key, envelope.v);
        return false;
      });
    }
    if (missing.length === 0) {
      return result;
    }
    const loaded = await loadMissing(missing);
    cacheLoadsTotal.inc({ cache: this.name, outcome: 'loaded' }, missing.length);
    // Absent keys are not cached: a multi-get asks for ids it was handed (a timeline page), so
    // "not found" there most likely means a replica that has not replayed the insert yet, and
    // remembering it would hide a new post for the negative TTL.
    await Promise.all(
      missing.map((key) => {
        const value = loaded.get(key) ?? null;
        result.set(key, value);
        return value === null ? Promise.resolve() : this.store(key, value);
      }),
    );
    return result;
  }

  /** Read-through: L1, then L2, then `loader` (once per key per process at a time). */
  async getOrSet(
    key: string,
    loader: () => Promise<T | null>,
    read: { bypassL1?: boolean; refresh?: boolean; tags?: string[] } = {},
  ): Promise<T | null> {
    if (read.refresh) {
      return this.refresh(key, loader, read.tags);
    }
    // A caller who just wrote may be on a process whose L1 has not yet heard the invalidation:
    // skip L1 for them (L2 holds the write-through value).
    const local = read.bypassL1 ? undefined : this.l1?.get(key);
    if (local) {
      this.count('l1', 'hit');
      this.maybeRefreshEarly(key, local, loader, read.tags);
      this.countStale(key);
      return local.v;
    }
    if (this.l1 && !read.bypassL1) {
      this.count('l1', 'miss');
    }
    const pending = this.inflight.get(key);
    if (pending) {
      cacheLoadsTotal.inc({ cache: this.name, outcome: 'collapsed' });
      return pending;
    }
    const load = this.loadThrough(key, loader, read.tags).finally(() => this.inflight.delete(key));
    this.inflight.set(key, load);
    return load;
  }

  /**
   * Load from the source now (a client's `Cache-Control: no-cache`), and store the result: the
   * version guard keeps a newer cached value if the source answered with an older one.
   */
  async refresh(key: string, loader: () => Promise<T | null>, tags?: string[]): Promise<T | null> {
    const value = await loader();
    cacheLoadsTotal.inc({ cache: this.name, outcome: 'refreshed' });
    if (value !== null) {
      await this.set(key, value, { tags });
    }
    return value;
  }

  /** Write-through: call after the source was updated; replaces the cached value everywhere. */
  async set(key: string, value: T, options: { tags?: string[] } = {}): Promise<void> {
    const ttl = jitter(this.options.ttlSeconds);
    const envelope: Envelope<T> = {
      v: value,
      ver: this.versionOf(value),
      exp: this.now() + ttl * 1000,
    };
    this.l1?.set(key, envelope);
    const tags = options.tags ?? [];
    if (tags.length > 0) {
      this.tagLocal(key, tags);
    }
    if (!(await this.writeL2(key, envelope, ttl))) {
      this.missedWrite(key);
    } else {
      await Promise.all(tags.map((tag) => this.tagL2(key, tag, ttl)));
    }
    await this.options.bus?.publish(this.name, [key]);
  }

  /**
   * Warming: put freshly loaded values in this process's L1 and in L2 (version-guarded, so a
   * newer value already cached wins). Unlike `set`, nothing is broadcast: warming is not a
   * change, and every process warms its own L1.
   */
  async warm(entries: Array<[string, T]>): Promise<void> {
    await Promise.all(entries.map(([key, value]) => this.store(key, value)));
  }

  /**
   * Invalidate every key set with `tag`: in L2 (the tag set is drained in batches and removed)
   * and in every process's L1 (each drops the keys it tagged, plus the keys found in L2).
   */
  async invalidateTag(tag: string): Promise<void> {
    const now = this.now();
    this.noteTagInvalidated(tag, now);
    this.dropLocalTag(tag);
    await this.l2Call((l2) =>
      l2.eval(
        'return redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])',
        1,
        this.tagInvalidatedKey(tag),
        String(now),
        String(TAG_INVALIDATED_MEMORY_MS),
      ),
    );
    const keys: string[] = [];
    for (;;) {
      const batch = await this.l2Call(
        (l2) =>
          l2.eval(TAG_POP, 1, this.tagKey(tag), TAG_BATCH, this.l2Key('')) as Promise<string[]>,
      );
      if (!batch) {
        break;
      }
      keys.push(...batch.ok);
      if (batch.ok.length < TAG_BATCH) {
        break;
      }
    }
    keys.forEach((k) => this.l1?.delete(k));
    await this.options.bus?.publish(this.name, keys, [tag]);
  }

  private noteTagInvalidated(tag: string, at: number): void {
    this.tagInvalidatedAt.set(tag, Math.max(at, this.tagInvalidatedAt.get(tag) ?? 0));
    if (this.tagInvalidatedAt.size > 10_000) {
      for (const [t, when] of this.tagInvalidatedAt) {
        if (at - when > TAG_INVALIDATED_MEMORY_MS) {
          this.tagInvalidatedAt.delete(t);
        }
      }
    }
  }

  /**
   * True when a load that started at `startedAt` may predate an invalidation of one of `tags`
   * (or have read a replica behind it): such a value is served but not cached.
   */
  private async tagsInvalidatedSince(tags: string[], startedAt: number): Promise<boolean> {
    const since = startedAt - (this.options.tagGraceMs ?? 1_000);
    if (tags.some((t) => (this.tagInvalidatedAt.get(t) ?? 0) >= since)) {
      return true;
    }
    const remote = await this.l2Call((l2) =>
      l2.mget(...tags.map((t) => this.tagInvalidatedKey(t))),
    );
    return (remote?.ok ?? []).some((at) => at !== null && Number(at) >= since);
  }

  private async tagL2(key: string, tag: string, ttlSeconds: number): Promise<void> {
    // The set outlives its longest entry a little; pruning removes members that expired sooner.
    const ttl = String(Math.ceil(ttlSeconds) + 60);
    await this.l2Call((l2) =>
      l2.eval(TAG_ADD, 1, this.tagKey(tag), key, ttl, TAG_PRUNE_SAMPLE, this.l2Key('')),
    );
  }

  private tagLocal(key: string, tags: string[]): void {
    this.untagLocal(key);
    this.tagsOfKey.set(key, tags);
    for (const tag of tags) {
      let keys = this.localTags.get(tag);
      if (!keys) {
        keys = new Set();
        this.localTags.set(tag, keys);
      }
      keys.add(key);
    }
  }

  private untagLocal(key: string): void {
    for (const tag of this.tagsOfKey.get(key) ?? []) {
      const keys = this.localTags.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) {
        this.localTags.delete(tag);
      }
    }
    this.tagsOfKey.delete(key);
  }

  private dropLocalTag(tag: string): void {
    for (const key of [...(this.localTags.get(tag) ?? [])]) {
      this.l1?.delete(key);
      this.untagLocal(key);
    }
    this.localTags.delete(tag);
  }

  /** Invalidate a key in L2 and in every process's L1. */
  async delete(key: string): Promise<void> {
    this.l1?.delete(key);
    if (!(await this.l2Call((l2) => l2.del(this.l2Key(key))))) {
      this.missedWrite(key);
    }
    await this.options.bus?.publish(this.name, [key]);
  }

  private missedWrite(key: string): void {
    if (this.options.l2 && this.missedWrites.size < MAX_MISSED_WRITES) {
      this.missedWrites.add(key);
    }
  }

  /** L2 is reachable again: drop what it may hold stale, everywhere. */
  private async replayMissedWrites(): Promise<void> {
    const keys = [...this.missedWrites];
    this.missedWrites.clear();
    for (let i = 0; i < keys.length; i += 500) {
      const batch = keys.slice(i, i + 500);
      if (!(await this.l2Call((l2) => l2.del(...batch.map((k) => this.l2Key(k)))))) {
        batch.forEach((k) => this.missedWrite(k));
        return;
      }
      await this.options.bus?.publish(this.name, batch);
    }
  }

  private async loadThrough(
    key: string,
    loader: () => Promise<T | null>,
    tags?: string[],
  ): Promise<T | null> {
    const failuresBefore = this.l2Failures;
    const remote = await this.readL2(key);
    if (remote) {
      // A cached "not found" stays in L2 only, for its short TTL: in L1 it would live for the L1
      // TTL (minutes), hiding a row that a lagging replica had not yet shown the first reader.
      if (remote.v !== null) {
        this.l1?.set(key, remote);
      }
      if (remote.v !== null && tags && tags.length > 0) {
        // L2 already has the key in its tag sets; this process's L1 must learn the tags too.
        this.tagLocal(key, tags);
      }
      this.maybeRefreshEarly(key, remote, loader, tags);
      this.countStale(key);
      return remote.v;
    }
    // L2 just failed for this very read: do not make the caller wait for a second timeout to
    // store the value there (it is still stored in L1).
    return this.loadFromSource(key, loader, 'loaded', tags, this.l2Failures > failuresBefore);
  }

  private async loadFromSource(
    key: string,
    loader: () => Promise<T | null>,
    outcome: 'loaded' | 'early',
    tags?: string[],
    skipL2 = false,
  ): Promise<T | null> {
    const started = this.now();
    const value = await loader();
    const took = this.now() - started;
    cacheLoadsTotal.inc({ cache: this.name, outcome });
    cacheLoadDurationSeconds.observe({ cache: this.name }, took / 1000);
    if (tags && tags.length > 0 && (await this.tagsInvalidatedSince(tags, started))) {
      cacheLoadsTotal.inc({ cache: this.name, outcome: 'uncached' });
      return value;
    }
    await this.store(key, value, took, tags, skipL2);
    return value;
  }

  /**
   * XFetch and refresh-ahead, off the request path: the caller gets the cached value now; at most
   * one background load per key and process, and with L2 one per key across processes (lease).
   */
  private maybeRefreshEarly(
    key: string,
    envelope: Envelope<T>,
    loader: () => Promise<T | null>,
    tags?: string[],
  ): void {
    // Not `inflight`: under load a read of L2 is nearly always in flight for a hot key, and an
    // early refresh must not wait for a quiet moment that never comes.
    if (envelope.v === null || envelope.exp === undefined || this.refreshing.has(key)) {
      return;
    }
    const now = this.now();
    const beta = this.options.xfetchBeta ?? 1;
    const ratio = this.options.refreshAheadRatio ?? 0;
    // XFetch: refresh when now - delta * beta * ln(rand) >= expiry (ln(rand) <= 0).
    const xfetch =
      beta > 0 &&
      envelope.d !== undefined &&
      now - envelope.d * beta * Math.log(this.random()) >= envelope.exp;
    const ahead = ratio > 0 && envelope.exp - now <= ratio * this.options.ttlSeconds * 1000;
    if (!xfetch && !ahead) {
      return;
    }
    this.refreshing.add(key);
    void this.refreshLease(key, envelope)
      .then(async (lease) => {
        if (lease === 'load') {
          await this.loadFromSource(key, loader, 'early', tags);
          return;
        }
        cacheLoadsTotal.inc({ cache: this.name, outcome: 'early_skipped' });
        if (lease !== 'busy' && lease.v !== null) {
          this.l1?.set(key, lease);
        }
      })
      // a failed early refresh costs nothing: the cached value is served until it expires
      .catch(() => undefined)
      .finally(() => this.refreshing.delete(key));
  }

  /**
   * One early refresh per key across all processes, not one per process: if L2 already holds a
   * newer value, adopt it; else the process that takes the refresh lease loads and the others keep
   * serving. Without L2, or with L2 down, each process refreshes on its own.
   */
  private async refreshLease(
    key: string,
    held: Envelope<T>,
  ): Promise<'load' | 'busy' | Envelope<T>> {
    const leaseMs = Math.min(10_000, Math.max(200, 3 * (held.d ?? 0)));
    const answer = await this.l2Call((l2) =>
      l2.eval(
        REFRESH_LEASE,
        2,
        this.l2Key(key),
        `cache-lease:${this.name}:${key}`,
        String(held.exp ?? 0),
        String(Math.round(leaseMs)),
        String(process.pid),
      ),
    );
    if (answer === undefined || answer.ok === 1) {
      return 'load';
    }
    return typeof answer.ok === 'string' ? (JSON.parse(answer.ok) as Envelope<T>) : 'busy';
  }

  /** Cache a freshly loaded value (or "not found", for the negative TTL). */
  private async store(
    key: string,
    value: T | null,
    tookMs?: number,
    tags: string[] = [],
    skipL2 = false,
  ): Promise<void> {
    if (value === null && this.options.negativeTtlSeconds <= 0) {
      return;
    }
    const ttl = value === null ? this.options.negativeTtlSeconds : jitter(this.options.ttlSeconds);
    const envelope: Envelope<T> = {
      v: value,
      ver: value === null ? 0 : this.versionOf(value),
      d: tookMs,
      exp: this.now() + ttl * 1000,
    };
    // A load may have read a lagging replica: never replace a newer value (L2's Lua does the same).
    const current = this.l1?.peek(key);
    if (value !== null && !(current && current.ver > envelope.ver)) {
      this.l1?.set(key, envelope);
      if (tags.length > 0) {
        this.tagLocal(key, tags);
      }
    }
    if (skipL2) {
      return;
    }
    if ((await this.writeL2(key, envelope, ttl)) && value !== null) {
      await Promise.all(tags.map((tag) => this.tagL2(key, tag, ttl)));
    }
  }

  /**
   * Run an L2 command through the breaker. Undefined means "L2 unavailable": the breaker is open
   * (counted as `bypass`, no call made) or the call failed (counted as `error`).
   */
  private async l2Call<R>(op: (l2: L2Client) => Promise<R>): Promise<{ ok: R } | undefined> {
    const l2 = this.options.l2;
    if (!l2 || !this.breaker) {
      return undefined;
    }
    if (this.breaker.opened) {
      this.count('l2', 'bypass');
      return undefined;
    }
    try {
      return { ok: (await this.breaker.fire(() => op(l2))) as R };
    } catch {
      this.l2Failures++;
      this.count('l2', this.breaker.opened ? 'bypass' : 'error');
      return undefined;
    }
  }

  private async readManyL2(keys: string[]): Promise<Map<string, Envelope<T>>> {
    const found = new Map<string, Envelope<T>>();
    const raw = await this.l2Call((l2) => l2.mget(...keys.map((k) => this.l2Key(k))));
    if (!raw) {
      return found;
    }
    keys.forEach((key, i) => {
      const item = raw.ok[i];
      this.count('l2', item === null || item === undefined ? 'miss' : 'hit');
      if (item !== null && item !== undefined) {
        found.set(key, JSON.parse(item) as Envelope<T>);
      }
    });
    return found;
  }

  private async readL2(key: string): Promise<Envelope<T> | undefined> {
    const raw = await this.l2Call((l2) => l2.get(this.l2Key(key)));
    if (!raw) {
      return undefined;
    }
    this.count('l2', raw.ok === null ? 'miss' : 'hit');
    return raw.ok === null ? undefined : (JSON.parse(raw.ok) as Envelope<T>);
  }

  /** False when L2 was not written (down, breaker open). */
  private async writeL2(key: string, envelope: Envelope<T>, ttlSeconds: number): Promise<boolean> {
    const done = await this.l2Call((l2) =>
      l2.eval(
        SET_IF_NEWER,
        1,
        this.l2Key(key),
        JSON.stringify(envelope),
        String(envelope.ver),
        String(Math.max(1, Math.round(ttlSeconds * 1000))),
      ),
    );
    return done !== undefined;
  }

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  private random(): number {
    // Never 0: ln(0) would be -Infinity, a certain refresh.
    return Math.max(Number.EPSILON, this.options.random ? this.options.random() : Math.random());
  }

  private versionOf(value: T): number {
    return this.options.versionOf ? this.options.versionOf(value) : Date.now();
  }

  private l2Key(key: string): string {
    return `cache:${this.name}:${key}`;
  }

  private tagKey(tag: string): string {
    return `cache-tag:${this.name}:${tag}`;
  }

  private tagInvalidatedKey(tag: string): string {
    return `cache-tag-at:${this.name}:${tag}`;
  }

  /** A value served while its early refresh runs is about to be replaced: stale-while-revalidate. */
  private countStale(key: string): void {
    if (this.refreshing.has(key)) {
      cacheStaleServedTotal.inc({ cache: this.name });
    }
  }

  private count(layer: 'l1' | 'l2', result: 'hit' | 'miss' | 'error' | 'bypass'): void {
    cacheRequestsTotal.inc({ cache: this.name, layer, result });
  }
}
