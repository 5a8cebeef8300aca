/** What kind of failure a domain code is; the filter maps kinds to HTTP statuses. */
export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'rate_limited'
  | 'unavailable';

export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  rate_limited: 429,
  unavailable: 503,
};

/**
 * Base of each feature's error type. A feature declares a code enum and the kind of each code:
 *   class PostError extends DomainError<PostErrorCode> { kinds = POST_ERROR_KINDS }
 */
export abstract class DomainError<C extends string = string> extends Error {
  abstract readonly kind: ErrorKind;

  constructor(
    readonly code: C,
    message: string,
    /** seconds, for rate_limited */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
