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
import { ProblemJsonFilter, problemErrorHandler } from '@murmur/errors';
import { httpRequestDuration, initDefaultMetrics } from '@murmur/observability';
import { Logger as PinoLogger } from 'nestjs-pino';

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
    trustProxy: config.TRUST_PROXY_HOPS,
    // A request id from NGINX is reused in logs. Unknown routes reach Nest's not-found handler,
    // which throws into the problem+json filter.
    requestIdHeader: 'x-request-id',
    routerOptions: { maxParamLength: 200 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(PinoLogger));
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

  const fastify = app.getHttpAdapter().getInstance();
  fastify.setErrorHandler(problemErrorHandler);
  // Each request runs in its own consistency context (read-your-writes state, filled by auth).
  fastify.addHook('onRequest', (_req, _reply, done) => {
    ConsistencyContext.run({ minLsn: {} }, done);
  });
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
