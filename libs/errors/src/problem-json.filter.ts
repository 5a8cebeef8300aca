import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DEPENDENCY_RETRY_AFTER_SECONDS, isDependencyFailure } from './dependency';
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

/** Fastify's own refusals, with our code and a detail that does not echo the request back. */
const FASTIFY_PROBLEMS: Record<string, { code: string; detail: string } | undefined> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'malformed_json', detail: 'The body is not valid JSON.' },
  FST_ERR_BAD_URL: { code: 'bad_url', detail: 'The URL is not valid (bad percent-encoding).' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'uri_too_long', detail: 'A path parameter is too long.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    detail: 'Send the body as application/json.',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'body_too_large', detail: 'The body is too large.' },
};

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
    const known = FASTIFY_PROBLEMS[fastifyError.code ?? ''];
    if (known) {
      return problem(status, known.code, known.detail, { requestId });
    }
    const detail =
      fastifyError.name === 'SyntaxError'
        ? 'The body is not valid JSON.'
        : (fastifyError.message ?? 'Bad request');
    return problem(status, codeForStatus(status), detail, { requestId });
  }
  if (isDependencyFailure(error)) {
    logger.warn(`dependency failure: ${(error as Error).message}`);
    return problem(503, 'dependency_unavailable', 'A store is not answering; try again shortly.', {
      requestId,
    });
  }
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  return problem(500, 'internal', 'Something went wrong on our side.', { requestId });
}

/**
 * Every 429 and 503 says when to come back: the error's own hint, else a second (shed load and
 * unavailable stores are expected to pass quickly).
 */
function retryAfterFor(p: Problem, error: unknown): number | undefined {
  if (error instanceof DomainError && error.retryAfterSeconds !== undefined) {
    return error.retryAfterSeconds;
  }
  return p.status === 429 || p.status === 503 ? DEPENDENCY_RETRY_AFTER_SECONDS : undefined;
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
    sendProblem(reply, p, retryAfterFor(p, exception));
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
  sendProblem(reply, p, retryAfterFor(p, error));
};

/** What Node's parser errors become; anything else it refuses is a 400. */
const PARSER_PROBLEMS: Record<
  string,
  { status: number; reason: string; code: string; detail: string }
> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: 'Request Timeout',
    code: 'request_timeout',
    detail: 'The request did not arrive in time.',
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    code: 'headers_too_large',
    detail: 'The request headers are too large.',
  },
  default: {
    status: 400,
    reason: 'Bad Request',
    code: 'bad_request',
    detail: 'The request could not be parsed.',
  },
};

/**
 * Node's HTTP parser refuses a request before Fastify sees it (a raw non-ASCII byte in the path,
 * a malformed header, headers too large, a slow sender): answer in problem+json too, then close
 * the connection as Node does, since the rest of its bytes cannot be trusted.
 */
export function problemClientErrorHandler(
  error: Error & { code?: string },
  socket: {
    writable: boolean;
    destroyed: boolean;
    write(data: string): unknown;
    destroy(e?: Error): void;
  },
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) {
    return;
  }
  const { status, reason, code, detail } =
    PARSER_PROBLEMS[error.code ?? ''] ?? PARSER_PROBLEMS.default;
  const body = JSON.stringify(problem(status, code, detail));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
