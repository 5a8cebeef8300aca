import {
  Controller,
  type DynamicModule,
  Get,
  Header,
  Inject,
  Module,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import { metricsRegistry } from '@murmur/observability';
import type { FastifyReply } from 'fastify';
import { LoggerModule } from 'nestjs-pino';
import { READINESS_CHECKS, type ReadinessCheck } from './readiness';

@Controller()
class HealthController {
  constructor(@Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[]) {}

  /** Liveness: the process answers. Dependencies are not checked: a restart would not fix them. */
  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(): Promise<{
    status: 'ok' | 'degraded';
    details: Record<string, { status: 'up' | 'down'; critical: boolean }>;
  }> {
    const results = await Promise.all(
      this.checks.map(async (c) => ({ c, up: await c.check().catch(() => false) })),
    );
    const details = Object.fromEntries(
      results.map(({ c, up }) => [
        c.name,
        { status: up ? ('up' as const) : ('down' as const), critical: c.critical },
      ]),
    );
    if (results.some(({ c, up }) => c.critical && !up)) {
      throw new ServiceUnavailableException({ message: `not ready: ${JSON.stringify(details)}` });
    }
    return { status: results.every(({ up }) => up) ? 'ok' : 'degraded', details };
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    await reply
      .header('Content-Type', metricsRegistry.contentType)
      .send(await metricsRegistry.metrics());
  }
}

export interface HttpCoreOptions {
  appName: string;
  logLevel: string;
  /** builds the readiness checks from providers of global modules (database, redis) */
  readiness: { inject: Array<string | symbol>; useFactory: (...deps: never[]) => ReadinessCheck[] };
}

/** Logging, health and metrics for an HTTP process (or a worker, which serves only these). */
@Module({})
export class HttpCoreModule {
  static forRoot(options: HttpCoreOptions): DynamicModule {
    return {
      module: HttpCoreModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: options.logLevel,
            name: options.appName,
            // Probes and scrapes are not logged: a readiness 503 while a dependency starts is
            // expected, and /health/ready says why.
            autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? '') },
            // Request logs only for failures: success is in the metrics, and 11 processes
            // logging every request would bury everything else.
            customLogLevel: (_req, res, err) =>
              err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'silent',
            genReqId: (req) => {
              const id = req.headers['x-request-id'];
              return typeof id === 'string' && id.length <= 128 ? id : crypto.randomUUID();
            },
            serializers: {
              req: (req: { id: string; method: string; url: string }) => ({
                id: req.id,
                method: req.method,
                url: req.url,
              }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
          },
        }),
      ],
      controllers: [HealthController],
      providers: [
        {
          provide: READINESS_CHECKS,
          inject: options.readiness.inject,
          useFactory: options.readiness.useFactory,
        },
      ],
    };
  }
}
