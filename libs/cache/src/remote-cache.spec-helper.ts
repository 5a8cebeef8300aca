import type { CacheEntry } from './cache-entry';
import type { Reached, RemoteCache, SetOutcome } from './remote-cache';

type Method = keyof Omit<RemoteCache<unknown>, 'open' | 'onRecovered'>;

/**
 * An in-memory remote layer for unit tests: the port's behaviour (version guard, tag sets, tag
 * times, leases) without Redis, with a switch to make it unreachable. The Redis adapter's Lua
 * is checked against a real Redis by the integration specs.
 */
export class FakeRemoteCache<T> implements RemoteCache<T> {
  readonly entries = new Map<string, CacheEntry<T>>();
  /** the TTL each entry was last written with (seconds) */
  readonly ttls = new Map<string, number>();
  readonly tagSets = new Map<string, Set<string>>();
  readonly tagTimes = new Map<string, number>();
  readonly leases = new Set<string>();
  /** every call made, reached or not */
  readonly calls: Method[] = [];
  /** unreachable: every call answers "not reached" */
  down = false;
  open = false;
  private readonly listeners: Array<() => void> = [];

  onRecovered(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Reachable again: what the Redis adapter does when its breaker closes. */
  recover(): void {
    this.down = false;
    this.open = false;
    this.listeners.forEach((listener) => listener());
  }

  callsTo(method: Method): number {
    return this.calls.filter((m) => m === method).length;
  }

  get(key: string): Promise<Reached<CacheEntry<T> | null>> {
    return this.reach('get', () => this.entries.get(key) ?? null);
  }

  getMany(keys: string[]): Promise<Reached<Array<CacheEntry<T> | null>>> {
    return this.reach('getMany', () => keys.map((k) => this.entries.get(k) ?? null));
  }

  async setIfNewer(key: string, entry: CacheEntry<T>, ttlSeconds: number): Promise<SetOutcome> {
    const done = await this.reach('setIfNewer', (): 'stored' | 'kept' => {
      if ((this.entries.get(key)?.ver ?? -Infinity) > entry.ver) {
        return 'kept';
      }
      this.entries.set(key, entry);
      this.ttls.set(key, ttlSeconds);
      return 'stored';
    });
    return done?.ok ?? 'unreached';
  }

  async delete(keys: string[]): Promise<boolean> {
    const done = await this.reach('delete', () => keys.forEach((k) => this.entries.delete(k)));
    return done !== undefined;
  }

  async addTags(key: string, tags: string[], _ttlSeconds: number): Promise<void> {
    await this.reach('addTags', () =>
      tags.forEach((tag) =>
        this.tagSets.set(tag, new Set([...(this.tagSets.get(tag) ?? []), key])),
      ),
    );
  }

  popTag(tag: string, max: number): Promise<Reached<string[]>> {
    return this.reach('popTag', () => {
      const members = [...(this.tagSets.get(tag) ?? [])].slice(0, max);
      members.forEach((m) => {
        this.tagSets.get(tag)?.delete(m);
        this.entries.delete(m);
      });
      return members;
    });
  }

  async markTagInvalidated(tag: string, at: number): Promise<void> {
    await this.reach('markTagInvalidated', () => this.tagTimes.set(tag, at));
  }

  async tagsInvalidatedAt(tags: string[]): Promise<number[]> {
    const times = await this.reach('tagsInvalidatedAt', () =>
      tags.flatMap((t) => this.tagTimes.get(t) ?? []),
    );
    return times?.ok ?? [];
  }

  lease(key: string, heldExpiry: number): Promise<Reached<CacheEntry<T> | 'won' | 'busy'>> {
    return this.reach('lease', () => {
      const current = this.entries.get(key);
      if (current && (current.exp ?? 0) > heldExpiry) {
        return current;
      }
      if (this.leases.has(key)) {
        return 'busy' as const;
      }
      this.leases.add(key);
      return 'won' as const;
    });
  }

  private reach<R>(method: Method, op: () => R): Promise<Reached<R>> {
    this.calls.push(method);
    return Promise.resolve(this.down ? undefined : { ok: op() });
  }
}
