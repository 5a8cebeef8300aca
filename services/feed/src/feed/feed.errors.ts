import { DomainError, type ErrorKind } from '@murmur/errors';

/** How long a reader refused while the data Redis's derived state is rebuilt should wait. */
export const REBUILDING_RETRY_AFTER_SECONDS = 2;

export enum FeedErrorCode {
  InvalidCursor = 'invalid_cursor',
  Rebuilding = 'feed_rebuilding',
}

const KINDS: Record<FeedErrorCode, ErrorKind> = {
  [FeedErrorCode.InvalidCursor]: 'invalid',
  [FeedErrorCode.Rebuilding]: 'unavailable',
};

export class FeedError extends DomainError<FeedErrorCode> {
  get kind(): ErrorKind {
    return KINDS[this.code];
  }
}

/** 503 with `Retry-After`: the data Redis's derived state is being rebuilt after a loss. */
export function rebuildingError(): FeedError {
  return new FeedError(
    FeedErrorCode.Rebuilding,
    'Feeds are being rebuilt after a loss of the data store; try again in a moment.',
    REBUILDING_RETRY_AFTER_SECONDS,
  );
}
