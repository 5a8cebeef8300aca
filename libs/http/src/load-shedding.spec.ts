import { LoadShedder, queueMsOf } from './load-shedding';

describe(queueMsOf.name, () => {
  const now = 1_800_000_000_500;

  it('reads NGINX $msec (seconds.millis) and plain milliseconds', () => {
    expect(queueMsOf('t=1800000000.200', now)).toBe(300);
    expect(queueMsOf('1800000000.5', now)).toBe(0);
    expect(queueMsOf('t=1800000000100', now)).toBe(400);
  });

  it('ignores what is absent, malformed or too far off to be a queue (clock skew)', () => {
    expect(queueMsOf(undefined, now)).toBeUndefined();
    expect(queueMsOf('t=soon', now)).toBeUndefined();
    expect(queueMsOf('t=1799999000.000', now)).toBeUndefined();
  });

  it('counts a start slightly in the future (a clock a little ahead) as no wait', () => {
    expect(queueMsOf('t=1800000000.900', now)).toBe(0);
  });
});

const OFF = { maxInFlight: 0, maxQueueMs: 0, targetQueueMs: 50, intervalMs: 500, deadlineMs: 0 };

describe(LoadShedder.name, () => {
  let clock = 1_800_000_000_000;
  const header = (waitedMs: number): string => `t=${((clock - waitedMs) / 1000).toFixed(3)}`;

  it('refuses a request that queued longer than the bound, before counting it in flight', () => {
    const sut = new LoadShedder({ ...OFF, maxInFlight: 10, maxQueueMs: 250 }, () => clock);
    expect(sut.admit(header(300))).toMatchObject({ admitted: false, reason: 'queue' });
    expect(sut.admit(header(100))).toMatchObject({ admitted: true, queueMs: 100 });
    expect(sut.inFlight).toBe(1);
  });

  it('bounds the requests in flight and admits again once one is released', () => {
    const sut = new LoadShedder({ ...OFF, maxInFlight: 2 }, () => clock);
    const first = sut.admit(undefined);
    const second = sut.admit(undefined);
    expect(sut.admit(undefined)).toMatchObject({ admitted: false, reason: 'in_flight' });
    if (!first.admitted || !second.admitted) {
      throw new Error('the first two should be admitted');
    }
    first.release();
    first.release(); // a second release of the same request must not free another slot
    expect(sut.inFlight).toBe(1);
    expect(sut.admit(undefined).admitted).toBe(true);
    expect(sut.admit(undefined)).toMatchObject({ admitted: false, reason: 'in_flight' });
  });

  it('absorbs a burst up to the generous bound, but only the target once the queue stands', () => {
    const sut = new LoadShedder({ ...OFF, maxQueueMs: 1_000 }, () => clock);
    const busy = sut.admit(header(0)); // keeps the process from looking idle
    // A burst: requests that waited 300-900 ms are served while the queue is young.
    expect(sut.admit(header(300)).admitted).toBe(true);
    clock += 200;
    expect(sut.admit(header(900)).admitted).toBe(true);
    expect(sut.admit(header(1_200))).toMatchObject({ admitted: false, reason: 'queue' });
    // No request has started within 50 ms for over 500 ms: a standing queue, so the bound
    // drops to the target, and 300 ms of waiting is now too much.
    clock += 400;
    expect(sut.overloaded).toBe(true);
    expect(sut.admit(header(300))).toMatchObject({ admitted: false, reason: 'queue' });
    // One request that barely waited shows the queue has drained: generous again.
    expect(sut.admit(header(10)).admitted).toBe(true);
    expect(sut.admit(header(300)).admitted).toBe(true);
    if (busy.admitted) {
      busy.release();
    }
  });

  it('admits everything when both bounds are off', () => {
    clock += 1;
    const sut = new LoadShedder(OFF, () => clock);
    for (let i = 0; i < 1000; i++) {
      expect(sut.admit(header(5_000)).admitted).toBe(true);
    }
  });
});
