import { launch } from '@murmur/observability';
import { loadConfig } from '@murmur/config';
import { feedWorkerConfig } from './config';

// The feed's BullMQ processors (fan-out, follow graph) in their own process, scaled on their own.
const config = loadConfig(feedWorkerConfig.schema);
launch({
  config,
  defaultServiceName: 'feed-worker',
  start: (telemetry) =>
    import('./bootstrap').then(({ bootstrapWorker }) => bootstrapWorker(config, telemetry)),
});
