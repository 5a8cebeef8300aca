import { QUEUES } from '@murmur/contracts';
import { defineService } from '@murmur/http';
import { feedApiConfig, feedWorkerConfig } from './config';
import { FanoutModule } from './fanout/fanout.module';
import { FeedModule } from './feed/feed.module';
import { RebuildModule } from './rebuild/rebuild.module';

export const apiModule = defineService(feedApiConfig, (config) => ({
  features: [FeedModule.forRoot(config)],
}));

/** The worker: fan-out and follow-graph processors, and the rebuild of the derived state. */
export const workerModule = defineService(feedWorkerConfig, (config) => ({
  queues: [QUEUES.feed],
  features: [FanoutModule.forRoot(config), RebuildModule.forRoot(config)],
  // Postgres is read only by a rebuild: fan-out goes on without it, so it is not a readiness check.
  databaseReadiness: false,
}));
