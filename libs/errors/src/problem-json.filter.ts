import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, STATUS_BY_KIND } from './domain-error';
import { type Problem, PROBLEM_CONTENT_TYPE, problem } from './problem';

const logger = new Logger('ProblemJson');

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 409:
      return 'conflict';
    case 413:
      return 'body_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    default:
      return status >= 500 ? 'internal' : 'error';
  }
}

/** Turn anything thrown into a problem. Unknown errors are 500 and logged; their text is not leaked. */
export function toProblem(error: unknown, requestId?: string): Problem {
  if (error instanceof DomainError) {
    const domain = error as DomainError<string>;
    return problem(STATUS_BY_KIND[domain.kind], domain.code, domain.message, { requestId });
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status === 400 && /not valid JSON|Unexpected (token|end of JSON)/i.test(error.message)) {
      return problem(400, 'malformed_json', 'The body is not valid JSON.', { requestId });
    }
    const body = error.getResponse();
    const messages =
      typeof body === 'object' && body !== null && 'message' in body ? body.message : undefined;
    if (Array.isArray(messages)) {
      return problem(
        status,
        status === 400 ? 'validation_failed' : codeForStatus(status),
        'The request is not valid.',
        {
          errors: messages.map((m: unknown) => String(m)),
          requestId,
        },
      );
    }
    return problem(
      status,
      codeForStatus(status),
      typeof messages === 'string' ? messages : error.message,
      { requestId },
    );
  }
  const fastifyError: Partial<FastifyError> | undefined =
    typeof error === 'object' && error !== null ? error : undefined;
  if (
    fastifyError &&
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode < 500
  ) {
    const status = fastifyError.statusCode;
    const detail =
      fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fastifyError.name === 'SyntaxError'
        ? 'The body is not valid JSON.'
        : (fastifyError.message ?? 'Bad request');
    const code =
      fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
        ? 'malformed_json'
        : codeForStatus(status);
    return problem(status, code, detail, { requestId });
  }
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return problem(500, 'internal', 'Something went wrong on our side.', { requestId });
}

export function sendProblem(reply: FastifyReply, p: Problem, retryAfterSeconds?: number): void {
  if (retryAfterSeconds !== undefined) {
    void reply.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  }
  void reply.status(p.status).header('Content-Type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(p));
}

function requestIdOf(request: FastifyRequest | undefined): string | undefined {
  const header = request?.headers['x-request-id'];
  return typeof header === 'string' && header.length <= 128 ? header : undefined;
}

@Catch()
export class ProblemJsonFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') {
      throw exception;
    }
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const p = toProblem(exception, requestIdOf(request));
    p.instance = request.url.split('?')[0];
    sendProblem(
      reply,
      p,
      exception instanceof DomainError ? exception.retryAfterSeconds : undefined,
    );
  }
}

/** Fastify-level handlers: errors raised before Nest's pipeline (bad JSON, too large) and unknown routes. */
export const problemErrorHandler = (
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): void => {
  const p = toProblem(error, requestIdOf(request));
  p.instance = request.url.split('?')[0];
  sendProblem(reply, p);
};
