import { startTelemetry } from '@murmur/observability';
import { loadFeedConfig } from './config';

// Config first (fail fast), telemetry second, then the app (instrumentation patches on load).
const config = loadFeedConfig();
const telemetry = startTelemetry({
  serviceName: config.OTEL_SERVICE_NAME ?? 'feed-service',
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
