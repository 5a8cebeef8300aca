import { DomainError, type ErrorKind } from '@murmur/errors';

export enum PostErrorCode {
  NotFound = 'post_not_found',
  InvalidId = 'invalid_post_id',
  TooManyIds = 'too_many_ids',
  IdempotencyKeyReused = 'idempotency_key_reused',
}

const KINDS: Record<PostErrorCode, ErrorKind> = {
  [PostErrorCode.NotFound]: 'not_found',
  [PostErrorCode.InvalidId]: 'invalid',
  [PostErrorCode.TooManyIds]: 'invalid',
  [PostErrorCode.IdempotencyKeyReused]: 'unprocessable',
};

export class PostError extends DomainError<PostErrorCode> {
  get kind(): ErrorKind {
    return KINDS[this.code];
  }
}
