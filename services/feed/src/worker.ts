import { launch } from '@murmur/observability';
import { loadFeedWorkerConfig } from './config';

// The feed's BullMQ processors (fan-out, follow graph) in their own process, scaled on their own.
const config = loadFeedWorkerConfig();
launch({
  config,
  defaultServiceName: 'feed-worker',
  start: (telemetry) =>
    import('./bootstrap').then(({ bootstrapWorker }) => bootstrapWorker(config, telemetry)),
});
