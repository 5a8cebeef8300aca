import { launch } from '@murmur/observability';
import { loadConfig } from '@murmur/config';
import { postApiConfig } from './config';

// The post service: HTTP and the gRPC PostService in one process.
const config = loadConfig(postApiConfig.schema);
launch({
  config,
  defaultServiceName: 'post-service',
  start: (telemetry) => import('./bootstrap').then(({ bootstrap }) => bootstrap(config, telemetry)),
});
