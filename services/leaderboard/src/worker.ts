import { launch } from '@murmur/observability';
import { loadConfig } from '@murmur/config';
import { leaderboardWorkerConfig } from './config';

// The leaderboard's BullMQ processors (score events) in their own process.
const config = loadConfig(leaderboardWorkerConfig.schema);
launch({
  config,
  defaultServiceName: 'leaderboard-worker',
  start: (telemetry) =>
    import('./bootstrap').then(({ bootstrapWorker }) => bootstrapWorker(config, telemetry)),
});
