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
/** Every cluster the module opened (main, then each physical shard): readiness, outbox relays. */
export const DATABASE_CLUSTERS = Symbol('DATABASE_CLUSTERS');

interface ClusterSpec {
  name: string;
  primary: string;
  replicas: string[];
}

/**
 * Open every node of a cluster and learn which one is primary. The configured primary is only
 * the first guess: roles are probed now and then in the background, so a process that starts
 * (or runs) after a failover writes to the promoted node. A node down at boot is tolerated (it
 * is opened once it answers); none answering at all is a configuration or network fault, and the
 * process fails to start with the addresses it tried.
 */
async function openCluster(
  spec: ClusterSpec,
  poolSize: number,
  replicasEnabled: boolean,
  pollMs: number,
  app: string,
) {
  const open = (url: string, role: string) => ({
    name: nodeName(url),
    dataSource: createDataSource({ url, name: `${app}:${spec.name}:${role}`, poolSize }),
  });
  const primary = open(spec.primary, 'primary');
  const replicas = spec.replicas.map((url) => open(url, 'replica'));
  const nodes = [primary, ...replicas];
  const failures = await Promise.all(
    nodes.map((n) =>
      n.dataSource.initialize().then(
        () => undefined,
        (error: Error) => `${n.name}: ${error.message}`,
      ),
    ),
  );
  if (failures.every((f) => f !== undefined)) {
    throw new Error(`no node of the ${spec.name} database answers (${failures.join('; ')})`);
  }
  const ready = nodes.map((n) => n.dataSource).filter((d) => d.isInitialized);
  await Promise.all(ready.map((d) => prewarmPool(d, Math.min(poolSize, PREWARM_CONNECTIONS))));
  const cluster = new ReplicatedCluster(spec.name, primary, replicas, { replicasEnabled, pollMs });
  await cluster.probeAll();
  cluster.startPolling();
  return cluster;
}

@Injectable()
class ClusterLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DATABASE_CLUSTERS) private readonly clusters: ReplicatedCluster[]) {}

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
 * shards. Provides `MAIN_CLUSTER` (a ReplicatedCluster), `SHARD_ROUTER` and `DATABASE_CLUSTERS`.
 */
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    const providers = [];
    if (options.main) {
      const main = options.main;
      providers.push({
        provide: MAIN_CLUSTER,
        useFactory: () =>
          openCluster(
            { name: 'main', primary: main.DATABASE_URL, replicas: main.DATABASE_REPLICA_URLS },
            main.DATABASE_POOL_SIZE,
            main.READ_REPLICAS_ENABLED,
            main.REPLICA_LSN_POLL_MS,
            options.appName,
          ),
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
          return new ShardRouter(opened, shards.SHARD_MAP);
        },
      });
    }
    const opened = providers.map((p) => p.provide);
    const clusters = {
      provide: DATABASE_CLUSTERS,
      inject: opened,
      useFactory: (...dbs: Array<ReplicatedCluster | ShardRouter>): ReplicatedCluster[] =>
        dbs.flatMap((db) => (db instanceof ShardRouter ? db.clusters : [db])),
    };
    return {
      module: DatabaseModule,
      global: true,
      providers: [...providers, clusters, ClusterLifecycle],
      exports: [...opened, DATABASE_CLUSTERS],
    };
  }
}
