import type { RemoteTags } from './remote-cache';

/** how long the time of a tag's last invalidation is remembered (ms) */
export const TAG_INVALIDATED_MEMORY_MS = 60_000;
/** keys taken out of a remote tag set per call */
export const TAG_BATCH = 500;
/** past this many tags remembered, the ones older than the memory are forgotten */
const MAX_REMEMBERED_TAGS = 10_000;

export interface TagSystemOptions {
  /** the remote tag sets; undefined = this process's L1 only */
  remote?: RemoteTags;
  /** drop a key from this process's L1; undefined = no L1 (nothing tagged locally) */
  forget?: (key: string) => void;
  now: () => number;
  /** how long after an invalidation a tagged load is still suspect (ms) */
  graceMs: number;
}

/**
 * Tags: a key may be set with tags, and invalidating a tag drops every key set with it, in L2
 * (a set per tag, drained in batches) and in L1 (this process's index of the keys it tagged, so a
 * tag invalidation needs no L2 to reach L1). It also remembers when each tag was last invalidated,
 * so a load that may predate the invalidation is served but not cached.
 */
export class TagSystem {
  /** this process's L1 keys by tag, and back */
  private readonly keysOfTag = new Map<string, Set<string>>();
  private readonly tagsOfKey = new Map<string, string[]>();
  /** when each tag was last invalidated (ms), as this process heard it */
  private readonly invalidatedAt = new Map<string, number>();

  constructor(private readonly options: TagSystemOptions) {}

  /** `key` is in this process's L1 with these tags (replacing the tags it had). */
  tagLocal(key: string, tags: string[]): void {
    if (!this.options.forget || tags.length === 0) {
      return;
    }
    this.untagLocal(key);
    this.tagsOfKey.set(key, tags);
    for (const tag of tags) {
      let keys = this.keysOfTag.get(tag);
      if (!keys) {
        keys = new Set();
        this.keysOfTag.set(tag, keys);
      }
      keys.add(key);
    }
  }

  /** `key` left this process's L1. */
  untagLocal(key: string): void {
    for (const tag of this.tagsOfKey.get(key) ?? []) {
      const keys = this.keysOfTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) {
        this.keysOfTag.delete(tag);
      }
    }
    this.tagsOfKey.delete(key);
  }

  /** `key` is in L2 with these tags. */
  async tagRemote(key: string, tags: string[], ttlSeconds: number): Promise<void> {
    if (tags.length > 0) {
      await this.options.remote?.addTags(key, tags, ttlSeconds);
    }
  }

  /**
   * Invalidate `tag` here and in L2: drops the keys this process tagged, drains the tag's L2 set
   * (deleting its entries) and drops those keys from L1 too. Returns the keys found in L2, for
   * the other processes.
   */
  async invalidate(tag: string): Promise<string[]> {
    const now = this.options.now();
    this.heard(tag, now);
    const remote = this.options.remote;
    if (!remote) {
      return [];
    }
    await remote.markTagInvalidated(tag, now, TAG_INVALIDATED_MEMORY_MS);
    const keys: string[] = [];
    for (;;) {
      const batch = await remote.popTag(tag, TAG_BATCH);
      if (!batch) {
        break;
      }
      keys.push(...batch.ok);
      if (batch.ok.length < TAG_BATCH) {
        break;
      }
    }
    keys.forEach((key) => this.options.forget?.(key));
    return keys;
  }

  /** Another process (or this one) invalidated `tag` at `at`: drop its keys from L1. */
  heard(tag: string, at = this.options.now()): void {
    this.remember(tag, at);
    for (const key of [...(this.keysOfTag.get(tag) ?? [])]) {
      this.options.forget?.(key);
      this.untagLocal(key);
    }
    this.keysOfTag.delete(tag);
  }

  /**
   * True when a load that started at `startedAt` may predate an invalidation of one of `tags`
   * (or have read a replica behind it): such a value is served but not cached.
   */
  async invalidatedSince(tags: string[], startedAt: number): Promise<boolean> {
    const since = startedAt - this.options.graceMs;
    if (tags.some((t) => (this.invalidatedAt.get(t) ?? 0) >= since)) {
      return true;
    }
    const remote = (await this.options.remote?.tagsInvalidatedAt(tags)) ?? [];
    return remote.some((at) => at >= since);
  }

  private remember(tag: string, at: number): void {
    this.invalidatedAt.set(tag, Math.max(at, this.invalidatedAt.get(tag) ?? 0));
    if (this.invalidatedAt.size > MAX_REMEMBERED_TAGS) {
      for (const [t, when] of this.invalidatedAt) {
        if (at - when > TAG_INVALIDATED_MEMORY_MS) {
          this.invalidatedAt.delete(t);
        }
      }
    }
  }
}
