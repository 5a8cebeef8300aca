import { startTelemetry } from '@murmur/observability';
import { loadLeaderboardConfig } from './config';

// The leaderboard's BullMQ processors (score events) in their own process.
const config = loadLeaderboardConfig();
const telemetry = startTelemetry({
  serviceName: config.OTEL_SERVICE_NAME ?? 'leaderboard-worker',
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
