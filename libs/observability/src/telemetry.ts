// Type-only: erased at compile time, so nothing is loaded before the SDK starts.
import type * as T_sdk_node from '@opentelemetry/sdk-node';
import type * as T_exporter_trace_otlp_proto from '@opentelemetry/exporter-trace-otlp-proto';
import type * as T_sdk_trace from '@opentelemetry/sdk-trace';
import type * as T_resources from '@opentelemetry/resources';
import type * as T_instrumentation_http from '@opentelemetry/instrumentation-http';
import type * as T_instrumentation_nestjs_core from '@opentelemetry/instrumentation-nestjs-core';
import type * as T_instrumentation_pg from '@opentelemetry/instrumentation-pg';
import type * as T_instrumentation_ioredis from '@opentelemetry/instrumentation-ioredis';
import type * as T_instrumentation_grpc from '@opentelemetry/instrumentation-grpc';
import type * as T_instrumentation_pino from '@opentelemetry/instrumentation-pino';
import { installStoreLatency, storePorts } from './simulated-latency';

export interface TelemetryOptions {
  serviceName: string;
  instanceName: string;
  /** OTLP/HTTP base URL (e.g. http://jaeger:4318); unset disables tracing */
  otlpEndpoint?: string;
  /** head sampling ratio for new traces, 0..1; child spans follow their parent's decision */
  sampleRatio: number;
  enabled: boolean;
  /** which instrumentations to load (`TRACING_INSTRUMENTATIONS`) */
  instrumentations: readonly string[];
}

export interface Telemetry {
  enabled: boolean;
  shutdown(): Promise<void>;
}

/**
 * Start the OpenTelemetry Node SDK with the instrumentations `TRACING_INSTRUMENTATIONS` names:
 * Nest (controller/handler spans), pg, ioredis, gRPC and pino (trace ids in logs) by default, and
 * OpenTelemetry's HTTP instrumentation only when `http` is named (the server span of each request
 * comes from ./server-spans.ts, installed by createHttpApp). BullMQ spans come from BullMQ's own telemetry (bullmq-otel), wired in the queue module.
 * Modules are required lazily so that nothing is loaded before the hooks are in place.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (!options.enabled || !options.otlpEndpoint) {
    return { enabled: false, shutdown: () => Promise.resolve() };
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof T_sdk_node;
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-proto') as typeof T_exporter_trace_otlp_proto;
  const { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } =
    require('@opentelemetry/sdk-trace') as typeof T_sdk_trace;
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof T_resources;
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof T_instrumentation_http;
  const { NestInstrumentation } =
    require('@opentelemetry/instrumentation-nestjs-core') as typeof T_instrumentation_nestjs_core;
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof T_instrumentation_pg;
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof T_instrumentation_ioredis;
  const { GrpcInstrumentation } =
    require('@opentelemetry/instrumentation-grpc') as typeof T_instrumentation_grpc;
  const { PinoInstrumentation } =
    require('@opentelemetry/instrumentation-pino') as typeof T_instrumentation_pino;
  /* eslint-enable @typescript-eslint/no-require-imports */

  const exporter = new OTLPTraceExporter({
    url: `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces`,
  });
  const available = {
    http: () =>
      new HttpInstrumentation({
        // Probes and scrapes would drown the traces that matter.
        ignoreIncomingRequestHook: (req) => /^\/(health|metrics)/.test(req.url ?? ''),
      }),
    nestjs: () => new NestInstrumentation(),
    pg: () => new PgInstrumentation({ requireParentSpan: true }),
    ioredis: () => new IORedisInstrumentation({ requireParentSpan: true }),
    grpc: () => new GrpcInstrumentation(),
    // trace ids in log lines; the lines stay on stdout (no OTLP log records)
    pino: () => new PinoInstrumentation({ disableLogSending: true }),
  };
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.instance.id': options.instanceName,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 500 })],
    // Traces only. Left unset, the SDK starts an OTLP metrics pipeline and an OTLP logs pipeline
    // by default (OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER empty = "otlp"): every request,
    // Redis command and query then also recorded histograms with hashed attributes, and every
    // log line became an OTLP log record, all for an endpoint (Jaeger) that takes neither.
    // Metrics are prom-client's on /metrics and logs are stdout. (Its CPU cost was within the
    // noise of this machine: the cost of tracing is the instrumentations themselves.)
    metricReaders: [],
    logRecordProcessors: [],
    // `server` is not an OpenTelemetry instrumentation: createHttpApp installs its hooks.
    instrumentations: Object.entries(available)
      .filter(([name]) => options.instrumentations.includes(name))
      .map(([, make]) => make()),
  });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}

export interface LaunchOptions<C> {
  config: C & {
    OTEL_SERVICE_NAME?: string;
    INSTANCE_NAME: string;
    OTEL_EXPORTER_OTLP_ENDPOINT?: string;
    OTEL_TRACES_SAMPLER_ARG: number;
    TRACING_ENABLED: boolean;
    TRACING_INSTRUMENTATIONS: readonly string[];
    /** the bench's realistic latency mode (simulated-latency.ts); 0: off */
    SIMULATED_STORE_LATENCY_MS?: number;
  };
  /** used when OTEL_SERVICE_NAME is not set, e.g. `post-service` or `feed-worker` */
  defaultServiceName: string;
  /** loads the app: must be a dynamic import, so that nothing instrumented loads before the SDK */
  start: (telemetry: Telemetry) => Promise<unknown>;
}

/**
 * Every entry point's order of start: the config was validated (fail fast), then telemetry, and
 * only then the app, whose modules the instrumentations patch as they load.
 */
export function launch<C>(options: LaunchOptions<C>): void {
  const { config } = options;
  const latency = config.SIMULATED_STORE_LATENCY_MS ?? 0;
  if (latency > 0) {
    const ports = storePorts(config);
    installStoreLatency(latency, ports);
    console.warn(
      `SIMULATED_STORE_LATENCY_MS=${latency}: replies from the stores on ports ${[...ports].join(', ')} are delayed (a benchmark mode, not for production)`,
    );
  }
  const telemetry = startTelemetry({
    serviceName: config.OTEL_SERVICE_NAME ?? options.defaultServiceName,
    instanceName: config.INSTANCE_NAME,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    sampleRatio: config.OTEL_TRACES_SAMPLER_ARG,
    enabled: config.TRACING_ENABLED,
    instrumentations: config.TRACING_INSTRUMENTATIONS,
  });
  options.start(telemetry).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
