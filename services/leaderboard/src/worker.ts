import { launch } from '@murmur/observability';
import { loadLeaderboardConfig } from './config';

// The leaderboard's BullMQ processors (score events) in their own process.
const config = loadLeaderboardConfig();
launch({
  config,
  defaultServiceName: 'leaderboard-worker',
  start: (telemetry) =>
    import('./bootstrap').then(({ bootstrapWorker }) => bootstrapWorker(config, telemetry)),
});
