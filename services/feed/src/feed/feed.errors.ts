import { DomainError, type ErrorKind } from '@murmur/errors';

export enum FeedErrorCode {
  InvalidCursor = 'invalid_cursor',
  PostsUnavailable = 'posts_unavailable',
}

const KINDS: Record<FeedErrorCode, ErrorKind> = {
  [FeedErrorCode.InvalidCursor]: 'invalid',
  [FeedErrorCode.PostsUnavailable]: 'unavailable',
};

export class FeedError extends DomainError<FeedErrorCode> {
  get kind(): ErrorKind {
    return KINDS[this.code];
  }
}
