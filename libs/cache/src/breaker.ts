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
