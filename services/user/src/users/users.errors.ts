import { DomainError, type ErrorKind } from '@murmur/errors';

export enum UserErrorCode {
  UsernameTaken = 'username_taken',
  NotFound = 'user_not_found',
  CannotFollowSelf = 'cannot_follow_self',
}

const KINDS: Record<UserErrorCode, ErrorKind> = {
  [UserErrorCode.UsernameTaken]: 'conflict',
  [UserErrorCode.NotFound]: 'not_found',
  [UserErrorCode.CannotFollowSelf]: 'invalid',
};

export class UserError extends DomainError<UserErrorCode> {
  get kind(): ErrorKind {
    return KINDS[this.code];
  }
}
