import { launch } from '@murmur/observability';
import { loadUserConfig } from './config';

// The user service over HTTP: users, sessions, follows.
const config = loadUserConfig();
launch({
  config,
  defaultServiceName: 'user-service',
  start: (telemetry) => import('./bootstrap').then(({ bootstrap }) => bootstrap(config, telemetry)),
});
