import { launch } from '@murmur/observability';
import { loadConfig } from '@murmur/config';
import { leaderboardApiConfig } from './config';

// The leaderboard service over HTTP.
const config = loadConfig(leaderboardApiConfig.schema);
launch({
  config,
  defaultServiceName: 'leaderboard-service',
  start: (telemetry) => import('./bootstrap').then(({ bootstrap }) => bootstrap(config, telemetry)),
});
