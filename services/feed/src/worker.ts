import { startTelemetry } from '@murmur/observability';
import { loadFeedWorkerConfig } from './config';

// The feed's BullMQ processors (fan-out, follow graph) in their own process, scaled on their own.
const config = loadFeedWorkerConfig();
const telemetry = startTelemetry({
  serviceName: config.OTEL_SERVICE_NAME ?? 'feed-worker',
  instanceName: config.INSTANCE_NAME,
  otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  sampleRatio: config.OTEL_TRACES_SAMPLER_ARG,
  enabled: config.TRACING_ENABLED,
});

void import('./bootstrap')
  .then(({ bootstrapWorker }) => bootstrapWorker(config, telemetry))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
