import { launch } from '@murmur/observability';
import { loadFeedConfig } from './config';

// The feed service over HTTP: home timelines.
const config = loadFeedConfig();
launch({
  config,
  defaultServiceName: 'feed-service',
  start: (telemetry) => import('./bootstrap').then(({ bootstrap }) => bootstrap(config, telemetry)),
});
