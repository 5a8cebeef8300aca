import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { MainDatabaseConfig, ShardDatabaseConfig } from '@murmur/config';
import { createDataSource, nodeName, PREWARM_CONNECTIONS, prewarmPool } from './data-source';
import { ReplicatedCluster } from './replicated-cluster';
import { ShardRouter } from './shard-router';

export const MAIN_CLUSTER = Symbol('MAIN_CLUSTER');
export const SHARD_ROUTER = Symbol('SHARD_ROUTER');
const ALL_CLUSTERS = Symbol('ALL_CLUSTERS');

interface ClusterSpec {
  name: string;
  primary: string;
  replicas: string[];
}

async function openCluster(
  spec: ClusterSpec,
  poolSize: number,
  replicasEnabled: boolean,
  pollMs: number,
  app: string,
) {
  const primary = createDataSource({
    url: spec.primary,
    name: `${app}:${spec.name}:primary`,
    poolSize,
  });
  const replicas = spec.replicas.map((url) => ({
    name: nodeName(url),
    dataSource: createDataSource({ url, name: `${app}:${spec.name}:replica`, poolSize }),
  }));
  await primary.initialize();
  // A replica that is down at boot is tolerated: reads fall back to the primary until it returns.
  await Promise.all(replicas.map((r) => r.dataSource.initialize().catch(() => undefined)));
  const ready = [primary, ...replicas.map((r) => r.dataSource).filter((d) => d.isInitialized)];
  await Promise.all(ready.map((d) => prewarmPool(d, Math.min(poolSize, PREWARM_CONNECTIONS))));
  const cluster = new ReplicatedCluster(
    spec.name,
    primary,
    replicas.filter((r) => r.dataSource.isInitialized),
    { replicasEnabled, pollMs },
  );
  cluster.startPolling();
  return cluster;
}

@Injectable()
class ClusterLifecycle implements OnApplicationShutdown {
  constructor(@Inject(ALL_CLUSTERS) private readonly clusters: ReplicatedCluster[]) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.clusters.map((c) => c.close()));
  }
}

export interface DatabaseModuleOptions {
  appName: string;
  main?: MainDatabaseConfig;
  shards?: ShardDatabaseConfig;
}

/**
 * Opens the clusters a service uses: `main` (users, follows, leaderboard history) and/or the post
 * shards. Provides `MAIN_CLUSTER` (a ReplicatedCluster) and `SHARD_ROUTER`.
 */
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    const clusters: ReplicatedCluster[] = [];
    const providers = [];
    if (options.main) {
      const main = options.main;
      providers.push({
        provide: MAIN_CLUSTER,
        useFactory: async () => {
          const cluster = await openCluster(
            { name: 'main', primary: main.DATABASE_URL, replicas: main.DATABASE_REPLICA_URLS },
            main.DATABASE_POOL_SIZE,
            main.READ_REPLICAS_ENABLED,
            main.REPLICA_LSN_POLL_MS,
            options.appName,
          );
          clusters.push(cluster);
          return cluster;
        },
      });
    }
    if (options.shards) {
      const shards = options.shards;
      providers.push({
        provide: SHARD_ROUTER,
        useFactory: async () => {
          const opened = await Promise.all(
            shards.SHARDS.map((s, i) =>
              openCluster(
                { name: `shard-${i}`, primary: s.primary, replicas: s.replicas },
                shards.DATABASE_POOL_SIZE,
                shards.READ_REPLICAS_ENABLED,
                100,
                options.appName,
              ),
            ),
          );
          clusters.push(...opened);
          return new ShardRouter(opened, shards.SHARD_MAP);
        },
      });
    }
    return {
      module: DatabaseModule,
      global: true,
      providers: [...providers, { provide: ALL_CLUSTERS, useValue: clusters }, ClusterLifecycle],
      exports: providers.map((p) => p.provide),
    };
  }
}
