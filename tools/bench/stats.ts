/** Small measurement helpers for the benchmarks: percentiles, a closed-loop driver, Zipf keys. */

/** The p-th percentile (0..100) of `sorted` (ascending), nearest-rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    return NaN;
  }
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export interface LoopResult {
  ops: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** every successful op's latency (ms), ascending */
  latencies: number[];
}

/**
 * Closed loop: `concurrency` workers each call `op` back to back for `durationMs`. Latencies in
 * ms (high-resolution clock). An `op` that throws counts as an error and its latency is dropped.
 */
export async function runClosedLoop(
  concurrency: number,
  durationMs: number,
  op: (worker: number) => Promise<unknown>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(durationMs * 1e6));
  const worker = async (w: number): Promise<void> => {
    for (;;) {
      const t0 = process.hrtime.bigint();
      if (t0 >= deadline) {
        return;
      }
      try {
        await op(w);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    latencies,
  };
}

/**
 * Samples ranks 0..n-1 with P(rank k) ∝ 1 / (k+1)^s (Zipf). Builds the CDF once (n floats) and
 * draws by binary search, so a draw is O(log n).
 */
export function zipfSampler(
  n: number,
  s: number,
  random: () => number = Math.random,
): () => number {
  if (n < 1 || !Number.isInteger(n)) {
    throw new Error(`zipf needs a positive integer n, got ${n}`);
  }
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / Math.pow(k + 1, s);
    cdf[k] = sum;
  }
  for (let k = 0; k < n; k++) {
    cdf[k] /= sum;
  }
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  };
}

/** The share of draws that fall on the `top` most popular of `n` ranks under Zipf(s): the best
 * hit ratio a cache holding `top` entries can reach. */
export function zipfTopShare(n: number, s: number, top: number): number {
  let all = 0;
  let head = 0;
  for (let k = 0; k < n; k++) {
    const w = 1 / Math.pow(k + 1, s);
    all += w;
    if (k < top) {
      head += w;
    }
  }
  return head / all;
}
