import { startTelemetry } from '@murmur/observability';
import { loadUserConfig } from './config';

// Config first (fail fast), telemetry second, and only then the app: instrumentation must
// patch pg, ioredis and Nest before they are loaded.
const config = loadUserConfig();
const telemetry = startTelemetry({
  serviceName: config.OTEL_SERVICE_NAME ?? 'user-service',
  instanceName: config.INSTANCE_NAME,
  otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  sampleRatio: config.OTEL_TRACES_SAMPLER_ARG,
  enabled: config.TRACING_ENABLED,
});

void import('./bootstrap')
  .then(({ bootstrap }) => bootstrap(config, telemetry))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
