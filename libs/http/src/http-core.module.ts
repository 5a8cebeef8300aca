import {
  Controller,
  type DynamicModule,
  Get,
  Header,
  Inject,
  type InjectionToken,
  Module,
  type OptionalFactoryDependency,
  Res,
} from '@nestjs/common';
import { metricsRegistry } from '@murmur/observability';
import type { FastifyReply } from 'fastify';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
  TerminusModule,
} from '@nestjs/terminus';
import { MurmurLogger } from './logging';
import { READINESS_CHECKS, type ReadinessCheck } from './readiness';

@Controller()
class HealthController {
  constructor(
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[],
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
  ) {}

  /** Liveness: the process answers. Dependencies are not checked: a restart would not fix them. */
  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness (Terminus): 503 when a critical dependency is down. A non-critical one (the L2
   * cache, a Postgres primary whose replicas answer) that is down is reported `up` with
   * `degraded: true`: the process still serves, slower or without writes.
   */
  @Get('health/ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check(
      this.checks.map((c) => async () => {
        const up = await c.check().catch(() => false);
        const session = this.indicators.check(c.name);
        const details = c.details?.() ?? {};
        if (up) {
          return session.up({ critical: c.critical, ...details });
        }
        return c.critical
          ? session.down({ critical: true, ...details })
          : session.up({ critical: false, degraded: true, ...details });
      }),
    );
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
  readiness: {
    inject: Array<InjectionToken | OptionalFactoryDependency>;
    useFactory: (...deps: never[]) => ReadinessCheck[];
  };
}

/** Logging, health and metrics for an HTTP process (or a worker, which serves only these). */
@Module({})
export class HttpCoreModule {
  static forRoot(options: HttpCoreOptions): DynamicModule {
    return {
      module: HttpCoreModule,
      imports: [
        // Terminus's own error log would repeat what the 503 body says on every failed probe.
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [HealthController],
      exports: [MurmurLogger],
      providers: [
        {
          provide: MurmurLogger,
          useValue: new MurmurLogger({ appName: options.appName, level: options.logLevel }),
        },
        {
          provide: READINESS_CHECKS,
          inject: options.readiness.inject,
          useFactory: options.readiness.useFactory,
        },
      ],
    };
  }
}
