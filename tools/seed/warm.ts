import { Progress } from './progress';
import type { SeedCredentials } from './seed';

export interface WarmOptions {
  /** the edge, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** requests in all */
  requests: number;
  concurrency: number;
}

export interface WarmResult {
  requests: number;
  byStatus: Map<number, number>;
  /** shed answers (503 overloaded) that were sent again after their Retry-After */
  shedRetries: number;
  /** p95 of the first and the last quarter of the requests, ms: what warming bought */
  firstQuarterP95: number;
  lastQuarterP95: number;
  seconds: number;
}

/** The headers the k6 scripts send (loadtests/k6/lib/api.js). */
const headersFor = (token: string): Record<string, string> => ({
  'Content-Type': 'application/json',
  Authorization: `Bearer ${token}`,
});

const SHED_RETRIES = 3;

/** A load-shedding answer: 503 `overloaded` with Retry-After (reads the body of a clone). */
async function isShed(res: Response): Promise<boolean> {
  if (res.status !== 503 || !res.headers.has('retry-after')) {
    return false;
  }
  const body = (await res
    .clone()
    .json()
    .catch(() => undefined)) as { code?: unknown } | undefined;
  return body?.code === 'overloaded';
}

/** Retry-After in seconds, as milliseconds, bounded to [100 ms, 5 s]. */
const retryAfterMs = (res: Response): number =>
  Math.min(5_000, Math.max(100, Number(res.headers.get('retry-after') ?? '1') * 1000 || 1000));

const p95 = (values: number[]): number => {
  if (values.length === 0) {
    return 0;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)];
};

/**
 * After a bulk seed every cache on the read path is empty (the seed wrote past the services):
 * read what the seeded sessions will read (their feed pages, the posts in them, profiles,
 * authors' pages, the board) through the edge, the way a deploy's warm-up would. Only GETs, so
 * nothing is changed. Prints progress and returns the first and last quarter's p95.
 */
export async function warmThroughEdge(
  credentials: SeedCredentials,
  options: WarmOptions,
  log: NodeJS.WriteStream = process.stderr,
): Promise<WarmResult> {
  const sessions = credentials.sessions;
  const users = credentials.users;
  if (sessions.length === 0 || users.length === 0) {
    return {
      requests: 0,
      byStatus: new Map(),
      shedRetries: 0,
      firstQuarterP95: 0,
      lastQuarterP95: 0,
      seconds: 0,
    };
  }
  const started = Date.now();
  const progress = new Progress('warm via edge', options.requests, log);
  const byStatus = new Map<number, number>();
  const latencies: number[] = new Array<number>(options.requests);
  const seenPosts: string[] = [];
  const someUser = (i: number): string => users[(i * 7919) % users.length].id;
  const pathFor = (i: number): string => {
    const kind = i % 10;
    if (kind < 5) {
      return '/api/feed?limit=20';
    }
    if (kind < 7) {
      return `/api/users/${someUser(i)}`;
    }
    if (kind < 8 && seenPosts.length > 0) {
      return `/api/posts/${seenPosts[i % seenPosts.length]}`;
    }
    if (kind < 9) {
      return `/api/posts?author=${someUser(i)}&limit=20`;
    }
    return '/api/leaderboards/posters?limit=10';
  };
  let next = 0;
  let shedRetries = 0;
  const worker = async (): Promise<void> => {
    while (next < options.requests) {
      const i = next++;
      const session = sessions[i % sessions.length];
      const t0 = performance.now();
      let status = 0;
      try {
        const send = (): Promise<Response> =>
          fetch(`${options.baseUrl}${pathFor(i)}`, {
            headers: headersFor(session.token),
            signal: AbortSignal.timeout(10_000),
          });
        let res = await send();
        // Shed (503 overloaded with Retry-After): come back when told, as a client would, a few
        // times; the warm-up is there to fill caches, and a shed read fills nothing.
        for (let attempt = 0; attempt < SHED_RETRIES && (await isShed(res)); attempt++) {
          shedRetries++;
          await new Promise((r) => setTimeout(r, retryAfterMs(res)));
          res = await send();
        }
        status = res.status;
        const body = (await res.json().catch(() => undefined)) as
          { items?: Array<{ id?: unknown }> } | undefined;
        for (const item of body?.items ?? []) {
          if (typeof item.id === 'string' && seenPosts.length < 5_000) {
            seenPosts.push(item.id);
          }
        }
      } catch {
        status = 0;
      }
      latencies[i] = performance.now() - t0;
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      progress.tick();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  progress.finish();
  const quarter = Math.max(1, Math.floor(options.requests / 4));
  return {
    requests: options.requests,
    byStatus,
    shedRetries,
    firstQuarterP95: p95(latencies.slice(0, quarter)),
    lastQuarterP95: p95(latencies.slice(-quarter)),
    seconds: (Date.now() - started) / 1000,
  };
}
