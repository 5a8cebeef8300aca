import {
  type DynamicModule,
  type INestApplication,
  Logger,
  type Type,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { BaseConfig, HttpConfig } from '@murmur/config';
import { ConsistencyContext } from '@murmur/database';
import { ProblemJsonFilter, problemClientErrorHandler, problemErrorHandler } from '@murmur/errors';
import { httpRequestDuration, initDefaultMetrics, installServerSpans } from '@murmur/observability';
import type { FastifyInstance } from 'fastify';
import { installHttpCaching } from './http-caching';
import { installLoadShedding } from './load-shedding';
import { installRequestLogging, MurmurLogger } from './logging';
import { installSecurityHeaders } from './security-headers';
import { trustedProxies } from './trusted-proxies';

export interface HttpAppOptions {
  config: BaseConfig & HttpConfig;
  /** runs after the app is built and before it listens (e.g. connect a gRPC server) */
  beforeListen?: (app: NestFastifyApplication) => Promise<void>;
  /** runs after the app has closed on SIGTERM/SIGINT (e.g. flush traces) */
  afterClose?: () => Promise<void>;
}

/**
 * Build and start a Nest app on Fastify with Murmur's conventions. Returns once listening.
 */
export async function createHttpApp(
  module: Type<unknown> | DynamicModule,
  options: HttpAppOptions,
): Promise<NestFastifyApplication> {
  const { config } = options;
  initDefaultMetrics({ service: config.SERVICE_NAME, instance: config.INSTANCE_NAME });
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: trustedProxies(config.TRUST_PROXY_HOPS, config.TRUST_PROXY_ADDRESSES),
    // A request id from NGINX is reused in logs. Unknown routes reach Nest's not-found handler,
    // which throws into the problem+json filter.
    requestIdHeader: 'x-request-id',
    routerOptions: { maxParamLength: 200 },
    // Errors Fastify's router raises before any route or hook (a path with broken
    // percent-encoding, an over-long parameter) get the same problem+json as everything else.
    frameworkErrors: problemErrorHandler,
    // …and so do requests that Node's HTTP parser refuses before Fastify gets them.
    clientErrorHandler: problemClientErrorHandler,
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bufferLogs: true,
    // Fastify's own JSON parser (with the empty-body rule below) and no form parser: this is a
    // JSON API, so a form or any other media type is a 415, not a body to validate.
    bodyParser: false,
  });
  const logger = app.get(MurmurLogger);
  app.useLogger(logger);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      // A body that is not an object (e.g. `[]` or `"x"`) is refused rather than coerced.
      forbidUnknownValues: true,
    }),
  );
  app.useGlobalFilters(new ProblemJsonFilter());

  // Errors raised inside a route or hook reach Fastify's error handler, which Nest sets at init to
  // run the global filters (ProblemJsonFilter): setting one here too was overridden by it, and
  // Fastify warned (FSTWRN004) at every start.
  const fastify = app.getHttpAdapter().getInstance();
  acceptEmptyJsonBodies(fastify);
  // First hook: a request refused for overload costs no other work.
  installLoadShedding(fastify, {
    maxInFlight: config.SHED_MAX_IN_FLIGHT,
    maxQueueMs: config.SHED_MAX_QUEUE_MS,
    targetQueueMs: config.SHED_TARGET_QUEUE_MS,
    intervalMs: config.SHED_INTERVAL_MS,
    deadlineMs: config.REQUEST_DEADLINE_MS,
  });
  // Each request runs in its own consistency context (read-your-writes state, filled by auth).
  fastify.addHook('onRequest', (_req, _reply, done) => {
    ConsistencyContext.run({ minLsn: {} }, done);
  });
  // The server span of each request (when tracing is on and `server` is among its instrumentations).
  if (
    config.TRACING_ENABLED &&
    config.OTEL_EXPORTER_OTLP_ENDPOINT &&
    config.TRACING_INSTRUMENTATIONS.includes('server')
  ) {
    installServerSpans(fastify, config.SERVICE_NAME);
  }
  installHttpCaching(fastify);
  installSecurityHeaders(fastify);
  installRequestLogging(fastify, logger.pino);
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    httpRequestDuration.observe(
      { method: req.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });

  handleShutdown(app, config.SHUTDOWN_GRACE_MS, options.afterClose);
  await options.beforeListen?.(app);
  await app.listen(config.PORT, config.HOST);
  new Logger('Bootstrap').log(`${config.INSTANCE_NAME} listening on ${config.HOST}:${config.PORT}`);
  return app;
}

/**
 * Many clients (k6 scripts, fetch wrappers, SDKs) send `Content-Type: application/json` on every
 * request, also on a bodiless POST, PUT or DELETE such as a follow or a like. Fastify refuses an
 * empty JSON body with 400; here an empty body is no body. A body that is present is parsed as
 * before (prototype poisoning refused), so malformed or wrong JSON is still a 400.
 */
export function acceptEmptyJsonBodies(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    void parseJson(req, body as string, done);
  });
}

/** Stop accepting, let in-flight requests finish, then exit; bounded by a grace period. */
export function handleShutdown(
  app: INestApplication,
  graceMs: number,
  extra?: () => Promise<void>,
): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    new Logger('Shutdown').log(`${signal}: draining`);
    const timer = setTimeout(() => process.exit(1), graceMs);
    timer.unref();
    void app
      .close()
      .then(() => extra?.())
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
