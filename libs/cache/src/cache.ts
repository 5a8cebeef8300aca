import { cacheLoadsTotal, cacheRequestsTotal } from '@murmur/observability';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { InvalidationBus } from './invalidation-bus';

export interface CacheOptions<T> {
  name: string;
  ttlSeconds: number;
  /** how long "not found" is remembered; 0 disables negative caching */
  negativeTtlSeconds: number;
  l1: { enabled: boolean; maxEntries: number; ttlSeconds?: number };
  /** the L2 connection; undefined disables L2 */
  l2?: Redis;
  bus?: InvalidationBus;
  /**
   * A monotonically increasing version of a value (e.g. updated_at in ms). With it, L2 refuses to
   * replace a newer value with an older one, so a slow reader that loaded before a write cannot
   * re-cache the old value after the write-through.
   */
  versionOf?: (value: T) => number;
}

interface Envelope<T> {
  /** null = cached "not found" */
  v: T | null;
  ver: number;
}

/** SET only if the stored version is not newer. KEYS[1]; ARGV: payload, version, ttl seconds. */
const SET_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and decoded.ver and tonumber(decoded.ver) > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
`;

/** ±10% so that keys written together do not all expire together. */
function jitter(seconds: number): number {
  return Math.max(1, Math.round(seconds * (0.9 + Math.random() * 0.2)));
}

export class Cache<T> {
  private readonly l1?: LRUCache<string, Envelope<T>>;
  private readonly inflight = new Map<string, Promise<T | null>>();

  constructor(private readonly options: CacheOptions<T>) {
    if (options.l1.enabled) {
      this.l1 = new LRUCache<string, Envelope<T>>({
        max: options.l1.maxEntries,
        ttl: (options.l1.ttlSeconds ?? options.ttlSeconds) * 1000,
      });
    }
    options.bus?.register(options.name, (keys) => keys.forEach((k) => this.l1?.delete(k)));
  }

  get name(): string {
    return this.options.name;
  }

  /** Read-through: L1, then L2, then `loader` (once per key per process at a time). */
  async getOrSet(
    key: string,
    loader: () => Promise<T | null>,
    read: { bypassL1?: boolean; refresh?: boolean } = {},
  ): Promise<T | null> {
    if (read.refresh) {
      return this.refresh(key, loader);
    }
    // A caller who just wrote may be on a process whose L1 has not yet heard the invalidation:
    // skip L1 for them (L2 holds the write-through value).
    const local = read.bypassL1 ? undefined : this.l1?.get(key);
    if (local) {
      this.count('l1', 'hit');
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
    const load = this.loadThrough(key, loader).finally(() => this.inflight.delete(key));
    this.inflight.set(key, load);
    return load;
  }

  /**
   * Load from the source now (a client's `Cache-Control: no-cache`), and store the result: the
   * version guard keeps a newer cached value if the source answered with an older one.
   */
  async refresh(key: string, loader: () => Promise<T | null>): Promise<T | null> {
    const value = await loader();
    cacheLoadsTotal.inc({ cache: this.name, outcome: 'refreshed' });
    if (value !== null) {
      await this.set(key, value);
    }
    return value;
  }

  /** Write-through: call after the source was updated; replaces the cached value everywhere. */
  async set(key: string, value: T): Promise<void> {
    const envelope: Envelope<T> = { v: value, ver: this.versionOf(value) };
    this.l1?.set(key, envelope);
    await this.writeL2(key, envelope, this.options.ttlSeconds);
    await this.options.bus?.publish(this.name, [key]);
  }

  /** Invalidate a key in L2 and in every process's L1. */
  async delete(key: string): Promise<void> {
    this.l1?.delete(key);
    await this.options.l2?.del(this.l2Key(key)).catch(() => undefined);
    await this.options.bus?.publish(this.name, [key]);
  }

  private async loadThrough(key: string, loader: () => Promise<T | null>): Promise<T | null> {
    const remote = await this.readL2(key);
    if (remote) {
      this.l1?.set(key, remote);
      return remote.v;
    }
    const value = await loader();
    cacheLoadsTotal.inc({ cache: this.name, outcome: 'loaded' });
    const envelope: Envelope<T> = { v: value, ver: value === null ? 0 : this.versionOf(value) };
    if (value === null && this.options.negativeTtlSeconds <= 0) {
      return null;
    }
    const ttl = value === null ? this.options.negativeTtlSeconds : this.options.ttlSeconds;
    if (value !== null) {
      this.l1?.set(key, envelope);
    }
    await this.writeL2(key, envelope, ttl);
    return value;
  }

  private async readL2(key: string): Promise<Envelope<T> | undefined> {
    const l2 = this.options.l2;
    if (!l2) {
      return undefined;
    }
    try {
      const raw = await l2.get(this.l2Key(key));
      this.count('l2', raw === null ? 'miss' : 'hit');
      return raw === null ? undefined : (JSON.parse(raw) as Envelope<T>);
    } catch {
      this.count('l2', 'error');
      return undefined;
    }
  }

  private async writeL2(key: string, envelope: Envelope<T>, ttlSeconds: number): Promise<void> {
    const l2 = this.options.l2;
    if (!l2) {
      return;
    }
    try {
      await l2.eval(
        SET_IF_NEWER,
        1,
        this.l2Key(key),
        JSON.stringify(envelope),
        String(envelope.ver),
        String(jitter(ttlSeconds)),
      );
    } catch {
      this.count('l2', 'error');
    }
  }

  private versionOf(value: T): number {
    return this.options.versionOf ? this.options.versionOf(value) : Date.now();
  }

  private l2Key(key: string): string {
    return `cache:${this.name}:${key}`;
  }

  private count(layer: 'l1' | 'l2', result: 'hit' | 'miss' | 'error'): void {
    cacheRequestsTotal.inc({ cache: this.name, layer, result });
  }
}
