import { DomainError, type ErrorKind } from '@murmur/errors';

export enum LeaderboardErrorCode {
  UnknownBoard = 'unknown_board',
}

export class LeaderboardError extends DomainError<LeaderboardErrorCode> {
  readonly kind: ErrorKind = 'not_found';
}
