import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  MAIN_CLUSTER,
  type ReplicatedCluster,
  SHARD_ROUTER,
  type ShardRouter,
} from '@murmur/database';
import { RebuildWatcher } from '@murmur/rebuild';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import type { FeedWorkerConfig } from '../config';

const WATCHER = Symbol('REBUILD_WATCHER');

/** Starts the derived-state watcher with the worker (unless REBUILD_CHECK_MS=0), stops it after. */
@Injectable()
class RebuildWatcherLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(@Inject(WATCHER) private readonly watcher: RebuildWatcher | undefined) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.watcher?.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.watcher?.stop();
  }
}

/**
 * The feed worker watches the data Redis for the loss of its derived state and rebuilds it from
 * Postgres (the feed worker owns timelines and the graph copy, the largest part of it; it
 * rebuilds the boards too, so that one process restores everything in one pass).
 */
@Module({})
export class RebuildModule {
  static forRoot(config: FeedWorkerConfig): DynamicModule {
    return {
      module: RebuildModule,
      providers: [
        RebuildWatcherLifecycle,
        {
          provide: WATCHER,
          inject: [MAIN_CLUSTER, SHARD_ROUTER, REDIS],
          useFactory: (main: ReplicatedCluster, shards: ShardRouter, redis: Redis) =>
            config.REBUILD_CHECK_MS === 0
              ? undefined
              : new RebuildWatcher({
                  main,
                  shards,
                  redis,
                  timelineMax: config.TIMELINE_MAX,
                  batch: config.REBUILD_BATCH,
                  owner: config.INSTANCE_NAME,
                  intervalMs: config.REBUILD_CHECK_MS,
                  logger: new Logger('Rebuild'),
                }),
        },
      ],
    };
  }
}
