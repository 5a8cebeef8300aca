import { type LoggerService } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Murmur's logs: one pino logger per process, JSON lines on stdout (`level`, `time`, `name`,
 * `context`, `msg`; OpenTelemetry's pino instrumentation adds `trace_id` and `span_id` inside a
 * traced request). Requests are logged only when they fail (4xx at info, 5xx at error), from a
 * Fastify hook after the answer is sent: a successful request costs no logging work at all — no
 * per-request child logger, no request id, no context store (measured on the bench's cost ladder,
 * docs/patterns/lean-request-path.md).
 */
export class MurmurLogger implements LoggerService {
  readonly pino: Logger;

  /** `destination`: stdout unless given (tests) */
  constructor(options: { appName: string; level: string }, destination?: DestinationStream) {
    const settings = { name: options.appName, level: options.level };
    this.pino = destination ? pino(settings, destination) : pino(settings);
  }

  private write(
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace',
    message: unknown,
    params: unknown[],
  ): void {
    if (!this.pino.isLevelEnabled(level)) {
      return;
    }
    // Nest passes the context last: `log(msg, context)`, `error(msg, stack, context)`.
    const rest = [...params];
    const context =
      rest.length > 0 && typeof rest[rest.length - 1] === 'string'
        ? (rest.pop() as string)
        : undefined;
    const fields: Record<string, unknown> = context === undefined ? {} : { context };
    if (typeof rest[0] === 'string') {
      fields.stack = rest[0];
    }
    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.pino[level](fields, String(message));
    }
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }
}

/** A request id from NGINX (bounded), else Fastify's own. */
function requestId(header: string | string[] | undefined, own: string): string {
  return typeof header === 'string' && header.length <= 128 ? header : own;
}

/**
 * One line per failed request (4xx info, 5xx error), after the answer: method, route URL, status,
 * time. Probes and scrapes are never logged (a readiness 503 while a dependency starts is
 * expected, and /health/ready says why); successes are in the metrics.
 */
export function installRequestLogging(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (req, reply, done) => {
    const status = reply.statusCode;
    if (status >= 400 && !/^\/(health|metrics)/.test(req.url)) {
      const line = {
        req: {
          id: requestId(req.headers['x-request-id'], req.id),
          method: req.method,
          url: req.url,
        },
        res: { statusCode: status },
        responseTime: Math.round(reply.elapsedTime),
      };
      if (status >= 500) {
        logger.error(line, 'request errored');
      } else {
        logger.info(line, 'request completed');
      }
    }
    done();
  });
}
