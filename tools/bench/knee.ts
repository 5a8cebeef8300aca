/**
 * The capacity search: the SLOs a step must meet and the search for the knee, the highest
 * arrival rate that meets them. Pure: the driver (./capacity.ts) runs the steps.
 */
import type { Window } from './open-loop';

export interface Slo {
  /** p95 latency must stay below this, ms */
  p95Ms: number;
  /** the share of requests answered with anything but 2xx must stay below this */
  maxFailedShare: number;
}

/**
 * The k6 thresholds (`thresholdsFor` in loadtests/k6/lib/config.js): p95 under 200 ms per
 * endpoint and overall, feed reads under 50 ms, sign-up and log-in (argon2id on purpose) under
 * 500 ms, under 1% failed. A 429 or 503 is load shed as designed, but still a failure here: the
 * user did not get what they asked for.
 */
export function endpointSlo(endpoint: string): Slo {
  const p95Ms =
    endpoint === 'feed' ? 50 : endpoint === 'signup' || endpoint === 'login' ? 500 : 200;
  return { p95Ms, maxFailedShare: 0.01 };
}

export const OVERALL_SLO: Slo = { p95Ms: 200, maxFailedShare: 0.01 };

/** What a step broke, in words; empty when it met every SLO. */
export function sloViolations(w: Window): string[] {
  if (w.all.count === 0) {
    return ['no requests'];
  }
  const broken: string[] = [];
  const check = (label: string, slo: Slo, t: Window['all']): void => {
    if (!(t.p95 < slo.p95Ms)) {
      broken.push(`${label}p95 ${t.p95.toFixed(0)} ms ≥ ${slo.p95Ms}`);
    }
    const failed = (t.count - t.ok) / t.count;
    if (!(failed < slo.maxFailedShare)) {
      broken.push(`${label}failed ${(100 * failed).toFixed(1)}% ≥ ${100 * slo.maxFailedShare}%`);
    }
  };
  const tags = Object.keys(w.byTag);
  if (tags.length > 1) {
    check('', OVERALL_SLO, w.all);
  }
  for (const tag of tags) {
    check(tags.length > 1 ? `${tag} ` : '', endpointSlo(tag), w.byTag[tag]);
  }
  return broken;
}

export type KneeStatus =
  /** a rate met the SLOs and a higher one did not */
  | 'found'
  /** even the first rate broke them */
  | 'below-first'
  /** every rate tried met them: the knee is higher */
  | 'not-reached';

/**
 * Walks a step ramp up until two consecutive steps break the SLOs (one bad step alone may be
 * noise), then optionally bisects between the last good rate below them and the first of the two.
 * Use: `for (let r = s.next(); r !== undefined; r = s.next()) s.record(r, passed(r))`.
 */
export class KneeSearch {
  private readonly results: Array<{ rate: number; pass: boolean }> = [];
  private index = 0;
  private bisectsLeft: number;
  private lo?: number;
  private hi?: number;
  private pending?: number;

  constructor(
    private readonly ramp: readonly number[],
    bisect = 0,
  ) {
    if (ramp.length === 0 || ramp.some((r, i) => !(r > 0) || (i > 0 && r <= ramp[i - 1]))) {
      throw new Error(`the ramp must be increasing positive rates, got ${ramp.join(',')}`);
    }
    this.bisectsLeft = bisect;
  }

  /** The next rate to try, or undefined when the search is over. */
  next(): number | undefined {
    if (this.pending !== undefined) {
      throw new Error(`record ${this.pending} req/s before asking for the next rate`);
    }
    if (this.hi === undefined) {
      this.pending = this.index < this.ramp.length ? this.ramp[this.index++] : undefined;
      return this.pending;
    }
    if (this.lo === undefined || this.bisectsLeft <= 0) {
      return undefined;
    }
    const mid = Math.round((this.lo + this.hi) / 2);
    if (mid <= this.lo || mid >= this.hi) {
      return undefined;
    }
    this.bisectsLeft--;
    this.pending = mid;
    return mid;
  }

  record(rate: number, pass: boolean): void {
    if (rate !== this.pending) {
      throw new Error(`recorded ${rate} req/s, but ${this.pending ?? 'nothing'} was asked for`);
    }
    this.pending = undefined;
    this.results.push({ rate, pass });
    if (this.hi !== undefined) {
      if (pass) {
        this.lo = rate;
      } else {
        this.hi = rate;
      }
      return;
    }
    const [before, last] = this.results.slice(-2);
    if (before && last && !before.pass && !last.pass) {
      this.hi = before.rate;
      this.lo = this.highestPassBelow(before.rate);
    }
  }

  private highestPassBelow(rate: number): number | undefined {
    const passed = this.results.filter((r) => r.pass && r.rate < rate).map((r) => r.rate);
    return passed.length > 0 ? Math.max(...passed) : undefined;
  }

  /** Past the ramp: the rates `next` gives now bisect between the knee and the first bad rate. */
  get bisecting(): boolean {
    return this.hi !== undefined;
  }

  /** The highest rate that met the SLOs below the first failing rate above it. */
  get knee(): number | undefined {
    if (this.hi !== undefined) {
      return this.lo;
    }
    const last = this.results.at(-1);
    return last && !last.pass ? this.highestPassBelow(last.rate) : last?.rate;
  }

  /** The lowest failing rate above the knee, if one was tried. */
  get firstBad(): number | undefined {
    if (this.hi !== undefined) {
      return this.hi;
    }
    const last = this.results.at(-1);
    return last && !last.pass ? last.rate : undefined;
  }

  get status(): KneeStatus {
    if (this.knee === undefined) {
      return 'below-first';
    }
    return this.firstBad === undefined ? 'not-reached' : 'found';
  }

  /** Rates that failed below the knee: noise, or a knee that is not one. */
  get blips(): number[] {
    const knee = this.knee ?? 0;
    return this.results.filter((r) => !r.pass && r.rate < knee).map((r) => r.rate);
  }
}
