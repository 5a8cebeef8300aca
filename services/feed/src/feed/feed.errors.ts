import { DomainError, type ErrorKind } from '@murmur/errors';

export enum FeedErrorCode {
  InvalidCursor = 'invalid_cursor',
}

const KINDS: Record<FeedErrorCode, ErrorKind> = {
  [FeedErrorCode.InvalidCursor]: 'invalid',
};

export class FeedError extends DomainError<FeedErrorCode> {
  get kind(): ErrorKind {
    return KINDS[this.code];
  }
}
