import { DomainError, type ErrorKind } from '@murmur/errors';

export class IdempotencyKeyError extends DomainError<'invalid_idempotency_key'> {
  readonly kind: ErrorKind = 'invalid';

  constructor(message: string) {
    super('invalid_idempotency_key', message);
  }
}

/** At most this long (Stripe's bound too): a UUID, a ULID or a client's own scheme all fit. */
export const IDEMPOTENCY_KEY_MAX = 255;

/**
 * The `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header): undefined when
 * absent; 1–255 visible ASCII characters otherwise, else a 400. A header sent twice arrives joined
 * with ", " and is refused, rather than silently picking one.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) {
    return undefined;
  }
  const value = Array.isArray(header) ? header.join(', ') : header;
  if (value.length === 0 || value.length > IDEMPOTENCY_KEY_MAX || !/^[\x21-\x7e]+$/.test(value)) {
    throw new IdempotencyKeyError(
      `Idempotency-Key must be 1–${IDEMPOTENCY_KEY_MAX} visible ASCII characters, sent once.`,
    );
  }
  return value;
}
