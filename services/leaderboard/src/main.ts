import { launch } from '@murmur/observability';
import { loadLeaderboardConfig } from './config';

// The leaderboard service over HTTP.
const config = loadLeaderboardConfig();
launch({
  config,
  defaultServiceName: 'leaderboard-service',
  start: (telemetry) => import('./bootstrap').then(({ bootstrap }) => bootstrap(config, telemetry)),
});
