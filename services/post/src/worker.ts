import { launch } from '@murmur/observability';
import { loadPostWorkerConfig } from './config';

// The post service's BullMQ processors (write-behind flushes of likes) in their own process.
const config = loadPostWorkerConfig();
launch({
  config,
  defaultServiceName: 'post-worker',
  start: (telemetry) =>
    import('./bootstrap').then(({ bootstrapWorker }) => bootstrapWorker(config, telemetry)),
});
