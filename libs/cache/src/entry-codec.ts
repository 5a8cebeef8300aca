import { Logger } from '@nestjs/common';
import { z } from 'zod';
import { cacheInvalidEntriesTotal } from './cache.metrics';
import type { CacheEntry } from './cache-entry';

/**
 * What a cache's values look like: each entry read from L2 is checked against it. A cache
 * created through `CacheFactory.create` must have one; `Cache` built directly without one
 * (benchmarks, an L1-only cache) checks only the envelope.
 */
export type ValueSchema<T> = z.ZodType<T>;

/** Why an entry read from L2 was refused: not JSON at all, or not the cache's shape. */
export type InvalidReason = 'json' | 'shape';

/** Distinct keys remembered for "log once per key"; past that the memory starts over. */
const WARNED_KEYS_MAX = 10_000;

/**
 * The entries' JSON in L2, both ways. Anyone who can write to the cache Redis or Memcached
 * decides what a read finds there, so a read is checked before it is used or copied into L1:
 * the envelope (`ver`, `exp`, `d` numbers) and the value against the cache's schema. A refused
 * entry reads as absent (the source answers, and its value replaces the bad one), is counted in
 * `murmur_cache_invalid_entries_total` and logged once per key, never with its content. L1 hits
 * are not checked: L1 holds only values this process checked or loaded.
 */
export class EntryCodec<T> {
  private readonly envelope: z.ZodType<CacheEntry<T>>;
  private readonly warned = new Set<string>();

  constructor(
    private readonly cacheName: string,
    schema?: ValueSchema<T>,
    private readonly logger: Pick<Logger, 'warn'> = new Logger('Cache'),
  ) {
    const value = schema ?? z.unknown();
    this.envelope = z.object({
      v: value.nullable(),
      ver: z.number(),
      d: z.number().optional(),
      exp: z.number().optional(),
    }) as z.ZodType<CacheEntry<T>>;
  }

  encode(entry: CacheEntry<T>): string {
    return JSON.stringify(entry);
  }

  /** The entry `raw` holds, or why it holds none: no side effects (a writer peeking at `ver`). */
  parse(raw: string): { entry: CacheEntry<T> } | { invalid: InvalidReason; issues?: string } {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return { invalid: 'json' };
    }
    const checked = this.envelope.safeParse(json);
    if (!checked.success) {
      // Paths and codes only: a zod message may quote the value, which must not reach the logs.
      const issues = checked.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`)
        .join(', ');
      return { invalid: 'shape', issues };
    }
    return { entry: checked.data };
  }

  /** The entry read from L2 for `key`, or undefined when it is refused (counted and logged). */
  read(key: string, raw: string): CacheEntry<T> | undefined {
    const parsed = this.parse(raw);
    if ('entry' in parsed) {
      return parsed.entry;
    }
    cacheInvalidEntriesTotal.inc({ cache: this.cacheName, reason: parsed.invalid });
    if (!this.warned.has(key)) {
      if (this.warned.size >= WARNED_KEYS_MAX) {
        this.warned.clear();
      }
      this.warned.add(key);
      const detail = parsed.issues ? ` (${parsed.issues})` : '';
      this.logger.warn(
        `cache ${this.cacheName}: refused the L2 entry of key ${key}: ${parsed.invalid}${detail}; treated as a miss and deleted`,
      );
    }
    return undefined;
  }
}
