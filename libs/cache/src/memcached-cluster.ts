import { HashRing } from './hash-ring';
import { MemcachedConnection, MemcachedError } from './memcached-connection';

export interface MemcachedClusterOptions {
  /** `host:port` of each node, the same list (in any order) in every process */
  servers: string[];
  /** longest wait for one command (ms) */
  timeoutMs: number;
  /** failed calls in a row that mark a node down */
  failuresToMarkDown: number;
  /** how often a node marked down is tried again (ms) */
  retryMs: number;
  /** keys written to another node while their own was down, remembered per node for its rejoin */
  maxRemapped: number;
}

export const DEFAULT_MEMCACHED_CLUSTER: Omit<MemcachedClusterOptions, 'servers'> = {
  timeoutMs: 200,
  failuresToMarkDown: 2,
  retryMs: 1_000,
  maxRemapped: 50_000,
};

interface NodeState {
  conn: MemcachedConnection;
  failures: number;
  /** when it was marked down (ms); undefined while up */
  downSince?: number;
  retry?: NodeJS.Timeout;
  /** keys of this node written to another node while it was down: key → where */
  remapped: Map<string, string>;
}

/**
 * A set of memcached nodes behind client-side consistent hashing (`HashRing`). A node that fails
 * `failuresToMarkDown` calls in a row is marked down: it is skipped at once (its keys remap to the
 * next node on the ring, ~1/N of all keys) and tried again every `retryMs` off the request path.
 * When it answers again it rejoins, but first it must not serve what it held before: it kept
 * entries that were invalidated or rewritten elsewhere meanwhile. If it restarted (its uptime is
 * shorter than its absence) it is empty already; otherwise it is flushed. The copies written to
 * other nodes meanwhile are deleted too, so they cannot resurface at the next failure.
 */
export class MemcachedCluster {
  readonly ring: HashRing;
  private readonly nodes = new Map<string, NodeState>();
  private readonly listeners: Array<(node: string, up: boolean) => void> = [];
  private closed = false;

  constructor(readonly options: MemcachedClusterOptions) {
    this.ring = new HashRing(options.servers);
    for (const server of options.servers) {
      const [host = '127.0.0.1', port = '11211'] = server.split(':');
      this.nodes.set(server, {
        conn: new MemcachedConnection(host, Number(port), options.timeoutMs),
        failures: 0,
        remapped: new Map(),
      });
    }
  }

  /** True when every node is marked down. */
  get allDown(): boolean {
    return [...this.nodes.values()].every((n) => n.downSince !== undefined);
  }

  isDown(node: string): boolean {
    return this.nodes.get(node)?.downSince !== undefined;
  }

  /** `listener` runs when a node is marked down (`up` false) and when it rejoins (`up` true). */
  onChange(listener: (node: string, up: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** The node that serves `key` now: its own, or the next live one while its own is down. */
  nodeFor(key: string): string | undefined {
    return this.ring.nodeFor(key, (n) => this.isDown(n));
  }

  /** Remember that `key` was written to `node` although its own node is down. */
  noteWrite(key: string, node: string): void {
    const home = this.ring.nodeFor(key);
    const state = home === undefined ? undefined : this.nodes.get(home);
    if (!state || home === node) {
      return;
    }
    state.remapped.delete(key);
    state.remapped.set(key, node);
    if (state.remapped.size > this.options.maxRemapped) {
      // Past the bound the oldest are forgotten: their copies live on until their TTL.
      state.remapped.delete(state.remapped.keys().next().value as string);
    }
  }

  /**
   * Run `op` on `node`'s connection, counting its failures to reach the node (throws on
   * failure); an error answer from the node does not count against it.
   */
  async run<R>(node: string, op: (conn: MemcachedConnection) => Promise<R>): Promise<R> {
    const state = this.nodes.get(node);
    if (!state) {
      throw new Error(`unknown memcached node ${node}`);
    }
    try {
      const result = await op(state.conn);
      state.failures = 0;
      return result;
    } catch (error) {
      // An error answer is about the request (a bad key), not the node: it answered.
      if (error instanceof MemcachedError && error.kind === 'reply') {
        throw error;
      }
      state.failures++;
      if (state.failures >= this.options.failuresToMarkDown && state.downSince === undefined) {
        this.markDown(node, state);
      }
      throw error;
    }
  }

  /** `stats` (or `stats <group>`) of one node: items and memory for the bench and the specs. */
  stats(node: string, group?: string): Promise<Map<string, string>> {
    return this.run(node, (c) => c.stats(group));
  }

  close(): void {
    this.closed = true;
    for (const state of this.nodes.values()) {
      clearTimeout(state.retry);
      state.conn.close();
    }
  }

  private markDown(node: string, state: NodeState): void {
    state.downSince = Date.now();
    state.conn.close();
    this.listeners.forEach((l) => l(node, false));
    this.scheduleRetry(node, state);
  }

  private scheduleRetry(node: string, state: NodeState): void {
    if (this.closed) {
      return;
    }
    state.retry = setTimeout(() => void this.retry(node, state), this.options.retryMs);
    state.retry.unref();
  }

  private async retry(node: string, state: NodeState): Promise<void> {
    try {
      const stats = await state.conn.stats();
      const awayMs = Date.now() - (state.downSince ?? Date.now());
      const restarted = Number(stats.get('uptime') ?? Infinity) * 1000 < awayMs;
      if (!restarted) {
        const ok = await state.conn.line('flush_all');
        if (ok !== 'OK') {
          throw new Error(`flush_all answered ${ok}`);
        }
      }
    } catch {
      state.conn.close();
      this.scheduleRetry(node, state);
      return;
    }
    state.downSince = undefined;
    state.failures = 0;
    const remapped = [...state.remapped];
    state.remapped.clear();
    this.listeners.forEach((l) => l(node, true));
    // Best effort, in small batches (a burst of thousands would outrun the per-call timeout): a
    // copy that cannot be deleted now ends with its TTL.
    const live = remapped.filter(([, where]) => !this.isDown(where));
    for (let i = 0; i < live.length; i += 100) {
      await Promise.all(
        live
          .slice(i, i + 100)
          .map(([key, where]) =>
            this.run(where, (c) => c.line(`delete ${key}`)).catch(() => undefined),
          ),
      );
    }
  }
}
