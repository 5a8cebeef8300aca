import { cacheWarmedTotal } from './cache.metrics';
import type { Cache } from './cache';

export interface WarmLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface WarmResult {
  warmed: number;
  ms: number;
  complete: boolean;
}

/**
 * Load hot keys into a cache at start-up, a batch at a time, logging progress. Bounded in time:
 * past `deadlineMs` the rest is left to read-through (a slow database must not hold the process
 * back from serving). A failure is logged, never thrown: a cold cache is slower, not broken.
 */
export async function warmCache<T>(
  cache: Pick<Cache<T>, 'name' | 'warm'>,
  batches: AsyncIterable<Array<[string, T]>>,
  options: {
    expected: number;
    logger: WarmLogger;
    deadlineMs?: number;
    /** the clock the deadline is read from (tests) */
    now?: () => number;
  },
): Promise<WarmResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const deadline = started + (options.deadlineMs ?? 10_000);
  let warmed = 0;
  const label = `warming ${cache.name}`;
  options.logger.log(`${label}: up to ${options.expected} keys`);
  try {
    for await (const batch of batches) {
      await cache.warm(batch);
      warmed += batch.length;
      cacheWarmedTotal.inc({ cache: cache.name }, batch.length);
      const pct = options.expected > 0 ? Math.round((100 * warmed) / options.expected) : 100;
      options.logger.log(`${label}: ${warmed}/${options.expected} (${pct}%)`);
      if (now() > deadline) {
        options.logger.warn(`${label}: stopped at the ${options.deadlineMs ?? 10_000} ms bound`);
        return { warmed, ms: now() - started, complete: false };
      }
    }
  } catch (error) {
    options.logger.warn(`${label}: failed after ${warmed} keys: ${(error as Error).message}`);
    return { warmed, ms: now() - started, complete: false };
  }
  const ms = now() - started;
  options.logger.log(`${label}: done, ${warmed} keys in ${ms} ms`);
  return { warmed, ms, complete: true };
}
