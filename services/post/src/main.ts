import { launch } from '@murmur/observability';
import { loadPostConfig } from './config';

// The post service: HTTP and the gRPC PostService in one process.
const config = loadPostConfig();
launch({
  config,
  defaultServiceName: 'post-service',
  start: (telemetry) => import('./bootstrap').then(({ bootstrap }) => bootstrap(config, telemetry)),
});
