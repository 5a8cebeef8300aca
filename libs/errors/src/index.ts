/**
 * @murmur/errors — one error format for the whole system: RFC 9457 problem+json.
 * Features throw a `DomainError` subclass with a code; `ProblemJsonFilter` (Nest) and
 * `problemErrorHandler` (Fastify, for errors raised before Nest routing such as bad JSON) map
 * every error to a status and a problem body.
 */
export * from './domain-error';
export * from './problem';
export * from './problem-json.filter';
export * from './dependency';
