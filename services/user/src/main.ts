import { launch } from '@murmur/observability';
import { loadConfig } from '@murmur/config';
import { userApiConfig } from './config';

// The user service over HTTP: users, sessions, follows.
const config = loadConfig(userApiConfig.schema);
launch({
  config,
  defaultServiceName: 'user-service',
  start: (telemetry) => import('./bootstrap').then(({ bootstrap }) => bootstrap(config, telemetry)),
});
