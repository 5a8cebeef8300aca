import { summariseLoss, type Window } from './l2-windows';

const w = (atMs: number, reads: number, hits: number, errors = 0, maxMs = 1): Window => ({
  atMs,
  reads,
  hits,
  errors,
  maxMs,
});

describe(summariseLoss.name, () => {
  it('reads the ratio before, the dip, the time back to 95% of it, and the errors until then', () => {
    const windows = [
      w(0, 100, 10), // warm-up: skipped
      w(1_000, 100, 98),
      w(2_000, 100, 98),
      w(3_000, 100, 60, 3, 150), // the fault
      w(4_000, 100, 80, 1),
      w(5_000, 100, 95),
      w(6_000, 100, 98),
    ];
    expect(summariseLoss(windows, 3_000)).toEqual({
      before: 0.98,
      dip: 0.6,
      recoveryMs: 2_000,
      errors: 4,
      maxMs: 150,
    });
  });

  it('measures the recovery from the dip on, not from a window before the fault took effect', () => {
    const windows = [w(1_000, 10, 10), w(2_000, 10, 10), w(3_000, 10, 2), w(4_000, 10, 10)];
    expect(summariseLoss(windows, 2_000).recoveryMs).toBe(2_000);
  });

  it('measures a return against the ratio before the loss, not against the outage', () => {
    // lost at 2 s, back at 4 s: 50% at 5 s is not recovered from 100%, though it is 95% of the
    // 50% that the windows from 1 s to 4 s average, outage included
    const windows = [w(1_000, 10, 10), w(2_000, 10, 0), w(4_000, 10, 0), w(5_000, 10, 5)];
    expect(summariseLoss(windows, 4_000, { baseline: 1 }).recoveryMs).toBeUndefined();
    expect(summariseLoss(windows, 4_000).recoveryMs).toBe(1_000);
  });

  it('says when the ratio never came back before the next fault', () => {
    const windows = [w(1_000, 10, 10), w(2_000, 10, 0), w(3_000, 10, 5), w(4_000, 10, 10)];
    const summary = summariseLoss(windows, 2_000, { untilMs: 4_000 });
    expect(summary.recoveryMs).toBeUndefined();
    expect(summary.dip).toBe(0);
  });
});
