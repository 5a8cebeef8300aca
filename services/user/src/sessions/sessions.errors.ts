import { DomainError, type ErrorKind } from '@murmur/errors';

export enum SessionErrorCode {
  BadCredentials = 'bad_credentials',
}

export class SessionError extends DomainError<SessionErrorCode> {
  readonly kind: ErrorKind = 'unauthorized';
}
