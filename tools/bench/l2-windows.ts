/** The node-loss timeline of `npm run bench:l2`: reads counted in fixed windows, and what they say. */

export interface Window {
  /** ms since the run started, at the window's start */
  atMs: number;
  reads: number;
  hits: number;
  /** calls that answered "not reached" */
  errors: number;
  /** the slowest read in the window (ms) */
  maxMs: number;
}

export interface LossSummary {
  /** the hit ratio to come back to: before the fault (the first second skipped), or `baseline` */
  before: number;
  /** the lowest windowed hit ratio from the fault on */
  dip: number;
  /**
   * ms from the fault until the first window, from the dip on, whose hit ratio is back to
   * `share` of `before` (a window between the fault and its effect, e.g. before a node rejoins,
   * does not count); undefined when it never came back within the phase
   */
  recoveryMs?: number;
  /** reads that failed ("not reached") from the fault until recovery (or the end) */
  errors: number;
  /** the slowest read from the fault on (ms) */
  maxMs: number;
}

const ratio = (ws: readonly Window[]): number => {
  const reads = ws.reduce((n, w) => n + w.reads, 0);
  return reads === 0 ? NaN : ws.reduce((n, w) => n + w.hits, 0) / reads;
};

/**
 * Summarise the windows around a fault at `faultAtMs` (until `untilMs`, e.g. the next fault).
 * `baseline`: the ratio to come back to, when the windows before the fault are not it (a
 * node's return, measured against the ratio before it was lost).
 */
export function summariseLoss(
  windows: readonly Window[],
  faultAtMs: number,
  options: { untilMs?: number; share?: number; baseline?: number } = {},
): LossSummary {
  const { untilMs = Infinity, share = 0.95 } = options;
  const before =
    options.baseline ?? ratio(windows.filter((w) => w.atMs >= 1_000 && w.atMs < faultAtMs));
  const after = windows.filter((w) => w.atMs >= faultAtMs && w.atMs < untilMs && w.reads > 0);
  const ratios = after.map((w) => w.hits / w.reads);
  const dipAt = ratios.indexOf(Math.min(...ratios));
  const back = after.slice(dipAt).find((w) => w.hits / w.reads >= share * before);
  const untilBack = back ? after.filter((w) => w.atMs < back.atMs) : after;
  return {
    before,
    dip: Math.min(...ratios),
    recoveryMs: back ? back.atMs - faultAtMs : undefined,
    errors: untilBack.reduce((n, w) => n + w.errors, 0),
    maxMs: Math.max(0, ...after.map((w) => w.maxMs)),
  };
}
