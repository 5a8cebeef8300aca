import { startService } from '@murmur/http';
import type { Telemetry } from '@murmur/observability';
import { apiModule, workerModule } from './app.module';
import type { FeedApiConfig, FeedWorkerConfig } from './config';

export const bootstrap = (config: FeedApiConfig, telemetry: Telemetry): Promise<unknown> =>
  startService(apiModule(config), config, telemetry);

/** The worker serves only health and metrics over HTTP. */
export const bootstrapWorker = (config: FeedWorkerConfig, telemetry: Telemetry): Promise<unknown> =>
  startService(workerModule(config), config, telemetry);
