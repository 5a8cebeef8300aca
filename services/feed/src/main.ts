import { launch } from '@murmur/observability';
import { loadConfig } from '@murmur/config';
import { feedApiConfig } from './config';

// The feed service over HTTP: home timelines.
const config = loadConfig(feedApiConfig.schema);
launch({
  config,
  defaultServiceName: 'feed-service',
  start: (telemetry) => import('./bootstrap').then(({ bootstrap }) => bootstrap(config, telemetry)),
});
