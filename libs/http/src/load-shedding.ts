import { problem, sendProblem } from '@murmur/errors';
import { httpInFlight, httpQueueSeconds, httpShedTotal } from '@murmur/observability';
import type { FastifyInstance } from 'fastify';

export interface LoadShedOptions {
  /** most requests this process works on at once; beyond it a request is refused (0: no bound) */
  maxInFlight: number;
  /**
   * most milliseconds a request may have waited between the edge and this process (NGINX's
   * `X-Request-Start`) before it is refused, while the process is not overloaded: room for a
   * burst (0: queue-time shedding off)
   */
  maxQueueMs: number;
  /**
   * the queue time a healthy process keeps below: when no request has started within it for
   * `intervalMs`, the queue is standing, not a burst, and requests that waited longer than this
   * are refused (CoDel's rule, as servers use it: generous for bursts, tight under overload)
   */
  targetQueueMs: number;
  intervalMs: number;
  /** a request still running after this many milliseconds gets a 503 (0: off) */
  deadlineMs: number;
}

export type ShedReason = 'queue' | 'in_flight' | 'deadline';

export type Admission =
  | { admitted: true; queueMs: number | undefined; release: () => void }
  | { admitted: false; reason: ShedReason; queueMs: number | undefined };

/** A queue time this far off is a clock that disagrees with the edge's, not a queue: ignore it. */
const SKEW_LIMIT_MS = 60_000;

/**
 * Milliseconds since the edge received the request, from `X-Request-Start: t=<seconds.millis>`
 * (NGINX's `$msec`; plain milliseconds are accepted too). Undefined when absent or implausible.
 */
export function queueMsOf(
  header: string | string[] | undefined,
  nowMs: number,
): number | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  const match = raw === undefined ? null : /^(?:t=)?(\d{9,13})(?:\.(\d{1,6}))?$/.exec(raw.trim());
  if (!match) {
    return undefined;
  }
  // 13 digits are milliseconds; fewer are NGINX's seconds with an optional fraction.
  const startMs =
    match[1].length >= 12 ? Number(match[1]) : Number(`${match[1]}.${match[2] ?? '0'}`) * 1000;
  const waited = nowMs - startMs;
  return Math.abs(waited) > SKEW_LIMIT_MS ? undefined : Math.max(0, waited);
}

/**
 * Admission control for one process: refuse, fast and before any work, what it cannot serve in
 * time. Overload then costs a cheap 503 with Retry-After instead of a queue that makes every
 * request slow, and NGINX never sees a slow or failing server to eject.
 */
export class LoadShedder {
  private current = 0;
  private lastGoodAt: number;

  constructor(
    private readonly options: LoadShedOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.lastGoodAt = now();
  }

  get inFlight(): number {
    return this.current;
  }

  /** No request has started within the target for a whole interval: a standing queue. */
  get overloaded(): boolean {
    return this.now() - this.lastGoodAt > this.options.intervalMs;
  }

  admit(requestStart: string | string[] | undefined): Admission {
    const now = this.now();
    const queueMs = queueMsOf(requestStart, now);
    if (this.options.maxQueueMs > 0 && queueMs !== undefined) {
      // An idle process, or a request that barely waited, shows there is no standing queue.
      if (this.current === 0 || queueMs <= this.options.targetQueueMs) {
        this.lastGoodAt = now;
      }
      const limit = this.overloaded ? this.options.targetQueueMs : this.options.maxQueueMs;
      if (queueMs > limit) {
        return { admitted: false, reason: 'queue', queueMs };
      }
    }
    if (this.options.maxInFlight > 0 && this.current >= this.options.maxInFlight) {
      return { admitted: false, reason: 'in_flight', queueMs };
    }
    this.current++;
    let released = false;
    return {
      admitted: true,
      queueMs,
      release: () => {
        if (!released) {
          released = true;
          this.current--;
          if (this.current === 0) {
            this.lastGoodAt = this.now();
          }
        }
      },
    };
  }
}

const SHED_DETAIL: Record<ShedReason, string> = {
  queue: 'The service is at capacity (the request waited too long); try again shortly.',
  in_flight: 'The service is at capacity; try again shortly.',
  deadline: 'The request took too long and was abandoned; try again shortly.',
};

/** Probes and scrapes are never shed: an overloaded process is alive and should say so. */
const isExempt = (url: string): boolean => url.startsWith('/health/') || url.startsWith('/metrics');

/**
 * Shed load in an `onRequest` hook (before routing to Nest, so a refusal costs almost nothing)
 * and answer a request that outlives its deadline with 503 before NGINX would time it out.
 */
export function installLoadShedding(
  fastify: FastifyInstance,
  options: LoadShedOptions,
): LoadShedder {
  const shedder = new LoadShedder(options);
  fastify.addHook('onRequest', (request, reply, done) => {
    if (isExempt(request.url)) {
      done();
      return;
    }
    const shed = (reason: ShedReason): void => {
      httpShedTotal.inc({ reason });
      const code = reason === 'deadline' ? 'deadline_exceeded' : 'overloaded';
      const instance = request.url.split('?')[0];
      sendProblem(reply, { ...problem(503, code, SHED_DETAIL[reason]), instance }, 1);
    };
    const admission = shedder.admit(request.headers['x-request-start']);
    if (admission.queueMs !== undefined) {
      httpQueueSeconds.observe(admission.queueMs / 1000);
    }
    if (!admission.admitted) {
      shed(admission.reason);
      return;
    }
    httpInFlight.set(shedder.inFlight);
    const timer =
      options.deadlineMs > 0
        ? setTimeout(() => {
            if (!reply.sent) {
              shed('deadline');
            }
          }, options.deadlineMs)
        : undefined;
    // `close` fires once the answer is out or the client went away, whichever comes first.
    reply.raw.once('close', () => {
      clearTimeout(timer);
      admission.release();
      httpInFlight.set(shedder.inFlight);
    });
    done();
  });
  return shedder;
}
