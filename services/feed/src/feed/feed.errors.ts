import { DomainError, type ErrorKind } from '@murmur/errors';

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
