import { createHash } from 'node:crypto';
import { cacheL2BreakerOpen, cacheRequestsTotal } from './cache.metrics';
import type { CacheEntry } from './cache-entry';
import { EntryCodec, type ValueSchema } from './entry-codec';
import type { MemcachedCluster } from './memcached-cluster';
import type { MemcachedConnection } from './memcached-connection';
import type { Reached, RemoteCache, RemoteTags, SetOutcome } from './remote-cache';

export interface MemcachedRemoteCacheOptions<T = unknown> {
  /** the cache's name: the namespace of its keys */
  name: string;
  /** the nodes, shared by every cache of the process */
  cluster: MemcachedCluster;
  /**
   * Where the tags live: Memcached has no sets and cannot list keys, so tag sets and tag
   * invalidation times stay in Redis (`RedisTags.forEntriesElsewhere`).
   */
  tags: RemoteTags;
  /** who holds a refresh lease (for a human reading the value); default the process id */
  owner?: string;
  /** compare-and-set rounds before a contended write gives up and deletes the key */
  casAttempts?: number;
  /** what the values must look like when read back (see `EntryCodec`); default: any value */
  schema?: ValueSchema<T>;
}

/** Memcached's longest relative expiry; a larger exptime would be read as a Unix time. */
const MAX_RELATIVE_EXPIRY = 30 * 24 * 3600;
/** keys per `get`: one answer stays a few hundred KB at most */
const GET_BATCH = 100;

/**
 * The remote cache on a set of Memcached nodes, with the port's semantics where Memcached can
 * give them, and the nearest safe behaviour where it cannot:
 * - entries: one JSON value per key (`cache:<name>:<key>`, hashed when not a valid Memcached
 *   key), on the node the ring picks; multi-get is one `get` per node, in parallel.
 * - version guard: `gets` then `cas` (or `add` when absent), retried when another writer got in
 *   between. Unlike Redis's script this is not one atomic step, but it never lets an older
 *   version replace a newer one: a lost `cas` re-reads. After `casAttempts` lost rounds (many
 *   writers on one key) the key is deleted unless what won is at least as new: a miss is safe.
 * - TTLs: whole seconds (Memcached has no ms expiry), at least 1 s; the ±10% jitter survives
 *   only on TTLs of tens of seconds.
 * - leases: `add` of a lease key, expiring in whole seconds. The "L2 already has a newer entry"
 *   check and the `add` are two round trips, not one script: a refresh that lands between them
 *   can cost one extra load, never a wrong value.
 * - tags: not here at all. Memcached has no sets and cannot list or scan keys, so tag sets and
 *   invalidation times are kept in Redis (`tags`), and popping a tag deletes the popped keys'
 *   entries here. Version keys ("generational" tags) were the alternative, but they cannot name
 *   the keys of a tag, and the other processes' L1 copies are dropped by name over the bus.
 * - invalidation broadcast: Memcached has no pub/sub; it stays on Redis (`InvalidationBus`).
 * - a node down: its calls fail fast (`MemcachedCluster` marks it down and skips it, its keys
 *   remap to the next node on the ring) and it rejoins empty. `open` holds only when every node
 *   is down.
 * - entries read back are checked (`EntryCodec`): a refused one reads as absent and is deleted
 *   (Memcached has no compare-and-delete: a value written in between may go too, a miss).
 */
export class MemcachedRemoteCache<T> implements RemoteCache<T> {
  private readonly cluster: MemcachedCluster;
  private readonly owner: string;
  private readonly recovered: Array<() => void> = [];
  private readonly codec: EntryCodec<T>;

  constructor(private readonly options: MemcachedRemoteCacheOptions<T>) {
    const cache = options.name;
    this.codec = new EntryCodec<T>(cache, options.schema);
    this.cluster = options.cluster;
    this.owner = options.owner ?? String(process.pid);
    cacheL2BreakerOpen.set({ cache }, 0);
    this.cluster.onChange((_, up) => {
      cacheL2BreakerOpen.set({ cache }, this.cluster.allDown ? 1 : 0);
      // Writes that failed meanwhile may have left stale entries: the cache replays them.
      if (up) {
        this.recovered.forEach((listener) => listener());
      }
    });
  }

  get open(): boolean {
    return this.cluster.allDown;
  }

  onRecovered(listener: () => void): void {
    this.recovered.push(listener);
  }

  async get(key: string): Promise<Reached<CacheEntry<T> | null>> {
    const k = this.entryKey(key);
    const items = await this.onNode(k, (c) => c.values(`get ${k}`));
    return items && { ok: await this.readOrNull(key, items.ok.get(k)?.value) };
  }

  async getMany(keys: string[]): Promise<Reached<Array<CacheEntry<T> | null>>> {
    const mkeys = keys.map((k) => this.entryKey(k));
    const byNode = this.groupByNode(mkeys);
    if (!byNode) {
      return undefined;
    }
    const found = new Map<string, string>();
    let reached = 0;
    await Promise.all(
      [...byNode].map(async ([node, nodeKeys]) => {
        try {
          for (let i = 0; i < nodeKeys.length; i += GET_BATCH) {
            const batch = nodeKeys.slice(i, i + GET_BATCH);
            const items = await this.cluster.run(node, (c) => c.values(`get ${batch.join(' ')}`));
            items.forEach((item, k) => found.set(k, item.value));
          }
          reached++;
        } catch {
          // This node's keys read as misses: the source answers them, and they are written
          // again to wherever the ring maps them by then.
          this.count('error');
        }
      }),
    );
    if (reached === 0) {
      return undefined;
    }
    return {
      ok: await Promise.all(keys.map((key, i) => this.readOrNull(key, found.get(mkeys[i])))),
    };
  }

  async setIfNewer(key: string, entry: CacheEntry<T>, ttlSeconds: number): Promise<SetOutcome> {
    const k = this.entryKey(key);
    const payload = this.codec.encode(entry);
    const exptime = expiry(ttlSeconds);
    const bytes = Buffer.byteLength(payload);
    const attempts = this.options.casAttempts ?? 8;
    const done = await this.onNode(k, async (c, node): Promise<'stored' | 'kept'> => {
      this.cluster.noteWrite(k, node);
      for (let i = 0; i < attempts; i++) {
        const current = (await c.values(`gets ${k}`)).get(k);
        if (!current) {
          if ((await c.line(`add ${k} 0 ${exptime} ${bytes}`, payload)) === 'STORED') {
            return 'stored';
          }
          continue; // another writer added it first: compare with theirs
        }
        // A refused entry counts as older than any: it is replaced.
        if ((this.versionIn(current.value) ?? -Infinity) > entry.ver) {
          return 'kept'; // a newer version is cached: keep it (not an error)
        }
        const answer = await c.line(`cas ${k} 0 ${exptime} ${bytes} ${current.cas}`, payload);
        if (answer === 'STORED') {
          return 'stored';
        }
        // EXISTS: written meanwhile; NOT_FOUND: deleted meanwhile. Either way read again.
      }
      // Lost every round: unless what won is at least as new, drop it (a miss is always safe;
      // an older version left in place would be served until its TTL).
      const last = (await c.values(`get ${k}`)).get(k);
      const lastVer = last ? (this.versionIn(last.value) ?? -Infinity) : Infinity;
      if (lastVer < entry.ver) {
        await c.line(`delete ${k}`);
      }
      return lastVer > entry.ver ? 'kept' : 'stored';
    });
    return done?.ok ?? 'unreached';
  }

  async delete(keys: string[]): Promise<boolean> {
    const byNode = this.groupByNode(keys.map((k) => this.entryKey(k)));
    if (!byNode) {
      return false;
    }
    const results = await Promise.all(
      [...byNode].map(([node, nodeKeys]) =>
        this.cluster
          .run(node, (c) => Promise.all(nodeKeys.map((k) => c.line(`delete ${k}`))))
          .then(
            () => true,
            () => {
              this.count('error');
              return false;
            },
          ),
      ),
    );
    return results.every(Boolean);
  }

  addTags(key: string, tags: string[], ttlSeconds: number): Promise<void> {
    return this.options.tags.addTags(key, tags, ttlSeconds);
  }

  /** Pop the tag's keys from Redis, then delete their entries here (once more if that failed). */
  async popTag(tag: string, max: number): Promise<Reached<string[]>> {
    const popped = await this.options.tags.popTag(tag, max);
    if (popped && popped.ok.length > 0 && !(await this.delete(popped.ok))) {
      await this.delete(popped.ok);
    }
    return popped;
  }

  markTagInvalidated(tag: string, at: number, forMs: number): Promise<void> {
    return this.options.tags.markTagInvalidated(tag, at, forMs);
  }

  tagsInvalidatedAt(tags: string[]): Promise<number[]> {
    return this.options.tags.tagsInvalidatedAt(tags);
  }

  async lease(
    key: string,
    heldExpiry: number,
    leaseMs: number,
  ): Promise<Reached<CacheEntry<T> | 'won' | 'busy'>> {
    const k = this.entryKey(key);
    const current = await this.onNode(k, (c) => c.values(`get ${k}`));
    if (!current) {
      return undefined;
    }
    const raw = current.ok.get(k)?.value;
    const entry = raw === undefined ? null : this.codec.read(key, raw);
    if (entry === undefined) {
      // A refused entry: no refresh now (the value held stays served); the next read misses.
      await this.onNode(k, (c) => c.line(`delete ${k}`));
      return { ok: 'busy' };
    }
    if (entry && (entry.exp ?? 0) > heldExpiry) {
      return { ok: entry };
    }
    const leaseKey = this.key(`cache-lease:${this.options.name}:`, key);
    const owner = this.owner;
    const took = await this.onNode(leaseKey, (c) =>
      c.line(`add ${leaseKey} 0 ${expiry(leaseMs / 1000)} ${Buffer.byteLength(owner)}`, owner),
    );
    return took && { ok: took.ok === 'STORED' ? 'won' : 'busy' };
  }

  /** Run `op` on the node that serves `k`; undefined when no node is up or the call failed. */
  private async onNode<R>(
    k: string,
    op: (conn: MemcachedConnection, node: string) => Promise<R>,
  ): Promise<Reached<R>> {
    const node = this.cluster.nodeFor(k);
    if (node === undefined) {
      this.count('bypass');
      return undefined;
    }
    try {
      return { ok: await this.cluster.run(node, (c) => op(c, node)) };
    } catch {
      this.count('error');
      return undefined;
    }
  }

  /** Keys by the node that serves each; undefined when no node is up. */
  private groupByNode(keys: string[]): Map<string, string[]> | undefined {
    const byNode = new Map<string, string[]>();
    for (const k of keys) {
      const node = this.cluster.nodeFor(k);
      if (node === undefined) {
        this.count('bypass');
        return undefined;
      }
      const group = byNode.get(node);
      if (group) {
        group.push(k);
      } else {
        byNode.set(node, [k]);
      }
    }
    return byNode;
  }

  /** The valid entry in `raw`, else null; a refused one is deleted. */
  private async readOrNull(key: string, raw: string | undefined): Promise<CacheEntry<T> | null> {
    if (raw === undefined) {
      return null;
    }
    const entry = this.codec.read(key, raw);
    if (!entry) {
      const k = this.entryKey(key);
      await this.onNode(k, (c) => c.line(`delete ${k}`));
    }
    return entry ?? null;
  }

  /** The version of a valid entry in `raw`; undefined when it is not one. */
  private versionIn(raw: string): number | undefined {
    const parsed = this.codec.parse(raw);
    return 'entry' in parsed ? parsed.entry.ver : undefined;
  }

  private count(result: 'error' | 'bypass'): void {
    cacheRequestsTotal.inc({ cache: this.options.name, layer: 'l2', result });
  }

  private entryKey(key: string): string {
    return this.key(`cache:${this.options.name}:`, key);
  }

  /**
   * A Memcached key: at most 250 bytes, no spaces or control characters. A key that is not one
   * is replaced by a SHA-1 (the tag sets in Redis keep the original key): of the key alone
   * while the prefix is valid (still readable by a human), else of the whole.
   */
  private key(prefix: string, key: string): string {
    const plain = `${prefix}${key}`;
    if (validKey(plain)) {
      return plain;
    }
    const hashed = `${prefix}#${createHash('sha1').update(key).digest('hex')}`;
    return validKey(hashed) ? hashed : `#${createHash('sha1').update(plain).digest('hex')}`;
  }
}

const validKey = (k: string): boolean =>
  // eslint-disable-next-line no-control-regex
  Buffer.byteLength(k) <= 250 && !/[\x00-\x20\x7f]/.test(k);

/** Seconds → Memcached's exptime: whole seconds, at least 1, at most its relative maximum. */
function expiry(seconds: number): number {
  return Math.min(MAX_RELATIVE_EXPIRY, Math.max(1, Math.ceil(seconds)));
}
