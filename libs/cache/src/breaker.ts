import CircuitBreaker from 'opossum';

/** The part of an opossum breaker this needs. */
interface Breaker {
  on(event: 'success' | 'failure', listener: () => void): unknown;
  open(): void;
  readonly opened: boolean;
}

/**
 * Open the breaker after `failures` failures in a row, whatever its rolling percentage says.
 * The percentage rule alone misses both ends: a quiet process never has `volumeThreshold` calls
 * in the window when each failing call takes a whole timeout, and in a busy one the successes
 * before a hang outvote the first failures. Opening this way follows the normal cycle (a trial
 * call after `resetTimeout`).
 */
export function openAfterConsecutiveFailures(breaker: Breaker, failures: number): void {
  let inARow = 0;
  breaker.on('success', () => {
    inARow = 0;
  });
  breaker.on('failure', () => {
    inARow++;
    if (inARow >= failures && !breaker.opened) {
      breaker.open();
    }
  });
}

export interface L2BreakerOptions {
  /** failures (in %) over the rolling window that open the breaker */
  errorThresholdPercentage: number;
  /** calls in the window before the breaker may open */
  volumeThreshold: number;
  /** how long the breaker stays open before one trial call */
  resetTimeoutMs: number;
  /** a hung L2 call counts as a failure after this long */
  timeoutMs: number;
  /**
   * The rolling window the failure percentage is computed over. Short on purpose: over opossum's
   * default 10 s, the successes of a busy healthy period outvote the failures of a hung Redis for
   * seconds, and every read meanwhile waits for a timeout.
   */
  windowMs: number;
  /** failures in a row that open the breaker whatever the window says */
  consecutiveFailures: number;
}

export const DEFAULT_L2_BREAKER: L2BreakerOptions = {
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  resetTimeoutMs: 2_000,
  timeoutMs: 300,
  windowMs: 1_000,
  consecutiveFailures: 3,
};

export type L2Breaker = CircuitBreaker<[() => Promise<unknown>], unknown>;

/**
 * One breaker per cache: every L2 call goes through it, so a dead or hung Redis costs a few
 * failed calls, then none until the trial call after `resetTimeoutMs` succeeds again.
 */
export function createL2Breaker(name: string, options: Partial<L2BreakerOptions> = {}): L2Breaker {
  const b = { ...DEFAULT_L2_BREAKER, ...options };
  const breaker: L2Breaker = new CircuitBreaker((op: () => Promise<unknown>) => op(), {
    timeout: b.timeoutMs,
    errorThresholdPercentage: b.errorThresholdPercentage,
    volumeThreshold: b.volumeThreshold,
    resetTimeout: b.resetTimeoutMs,
    rollingCountTimeout: b.windowMs,
    rollingCountBuckets: 10,
    name: `cache:${name}`,
  });
  openAfterConsecutiveFailures(breaker, b.consecutiveFailures);
  return breaker;
}
