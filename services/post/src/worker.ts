import { launch } from '@murmur/observability';
import { loadConfig } from '@murmur/config';
import { postWorkerConfig } from './config';

// The post service's BullMQ processors (write-behind flushes of likes) in their own process.
const config = loadConfig(postWorkerConfig.schema);
launch({
  config,
  defaultServiceName: 'post-worker',
  start: (telemetry) =>
    import('./bootstrap').then(({ bootstrapWorker }) => bootstrapWorker(config, telemetry)),
});
