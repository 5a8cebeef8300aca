import { DomainError, type ErrorKind } from './domain-error';

/** How long a client should wait before retrying a request refused for want of a dependency. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 1;

/**
 * A store or another service did not answer in time, or not at all: 503 with `Retry-After`.
 * Thrown by `withDeadline`, and what any unrecognised timeout or connection failure becomes.
 */
export class DependencyUnavailable extends DomainError<'dependency_unavailable'> {
  readonly kind: ErrorKind = 'unavailable';

  constructor(what: string) {
    super(
      'dependency_unavailable',
      `${what} is not answering right now; try again shortly.`,
      DEPENDENCY_RETRY_AFTER_SECONDS,
    );
  }
}

/**
 * Settle within `ms` or fail with DependencyUnavailable. For calls whose client has no timeout of
 * its own (BullMQ producers retry forever by design); the call itself is not cancelled, its late
 * result is ignored.
 */
export async function withDeadline<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DependencyUnavailable(what)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

// Postgres SQLSTATEs of a server that is going away or refusing (57P0x), a cancelled statement
// (57014, statement_timeout), connection failures (08xxx) and a write that reached a replica
// (25006: a primary demoted under a failover, until the new one is found); Node's socket errors.
const TRANSIENT_CODES = new Set([
  '25006',
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

// ioredis (command timeout, closed or unwritable connection, retries used up, a data Redis at
// its maxmemory refusing writes, alone or in a MULTI) and pg (query or connect timeout, a connection ended under a
// query).
const TRANSIENT_MESSAGES =
  /Command timed out|OOM command not allowed|EXECABORT|Connection is closed|Stream isn't writeable|Reached the max retries per request|Query read timeout|timeout exceeded when trying to connect|Connection terminated/i;

/**
 * Is this a store or network failure that a retry may not meet (rather than a bug)? Such errors
 * are answered 503 with `Retry-After`, not 500.
 */
export function isDependencyFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) {
    return false;
  }
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  return (
    (typeof code === 'string' && TRANSIENT_CODES.has(code)) ||
    name === 'MaxRetriesPerRequestError' ||
    (typeof message === 'string' && TRANSIENT_MESSAGES.test(message))
  );
}
