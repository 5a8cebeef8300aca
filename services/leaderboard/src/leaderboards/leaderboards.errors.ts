import { DomainError, type ErrorKind } from '@murmur/errors';

export enum LeaderboardErrorCode {
  UnknownBoard = 'unknown_board',
  /** the member asked about (`around`, `me`) has no score in that window */
  NotRanked = 'not_ranked',
  /** a period that does not exist, or one of another window (`2026-W49` for `daily`) */
  InvalidPeriod = 'invalid_period',
  /** `me` on a board that ranks posts, not users */
  NotAUserBoard = 'not_a_user_board',
}

const KINDS: Record<LeaderboardErrorCode, ErrorKind> = {
  [LeaderboardErrorCode.UnknownBoard]: 'not_found',
  [LeaderboardErrorCode.NotRanked]: 'not_found',
  [LeaderboardErrorCode.InvalidPeriod]: 'invalid',
  [LeaderboardErrorCode.NotAUserBoard]: 'invalid',
};

export class LeaderboardError extends DomainError<LeaderboardErrorCode> {
  get kind(): ErrorKind {
    return KINDS[this.code];
  }
}
