import { DomainError, type ErrorKind } from '@murmur/errors';

export enum LikeErrorCode {
  /** the post to like does not exist (the code a post read answers too) */
  PostNotFound = 'post_not_found',
  Unavailable = 'likes_unavailable',
}

export class LikeError extends DomainError<LikeErrorCode> {
  get kind(): ErrorKind {
    switch (this.code) {
      case LikeErrorCode.PostNotFound:
        return 'not_found';
      case LikeErrorCode.Unavailable:
        return 'unavailable';
    }
  }
}
