import { shardQueriesTotal } from './database-metrics';
import { LOGICAL_SHARDS, logicalShardForUser, logicalShardOfPostId, shardSchema } from './post-id';
import type { ReadOptions, ReplicatedCluster } from './replicated-cluster';
import type { Sql } from './sql';

export interface ShardTarget {
  logical: number;
  physical: number;
  /** the Postgres schema that holds the logical shard on its physical cluster */
  schema: string;
  cluster: ReplicatedCluster;
}

/**
 * Maps logical shards (a fixed 64) onto physical clusters. The default placement is
 * `logical % physicalCount`; `overrides` pins a logical shard elsewhere, which is how a moved shard
 * is routed after its schema was copied to another cluster.
 */
export class ShardRouter {
  private readonly placement: number[];

  constructor(
    readonly clusters: ReplicatedCluster[],
    overrides: Record<string, number> = {},
  ) {
    this.placement = Array.from({ length: LOGICAL_SHARDS }, (_, logical) => {
      const pinned = overrides[String(logical)];
      if (pinned !== undefined && (pinned < 0 || pinned >= clusters.length)) {
        throw new RangeError(
          `SHARD_MAP pins logical shard ${logical} to missing physical shard ${pinned}`,
        );
      }
      return pinned ?? logical % clusters.length;
    });
  }

  target(logical: number): ShardTarget {
    const physical = this.placement[logical];
    return { logical, physical, schema: shardSchema(logical), cluster: this.clusters[physical] };
  }

  forAuthor(authorId: string | bigint): ShardTarget {
    return this.target(logicalShardForUser(authorId));
  }

  forPost(postId: bigint): ShardTarget {
    return this.target(logicalShardOfPostId(postId));
  }

  async write<T>(target: ShardTarget, fn: (sql: Sql, schema: string) => Promise<T>): Promise<T> {
    shardQueriesTotal.inc({ shard: String(target.physical), kind: 'write' });
    return target.cluster.write((sql) => fn(sql, target.schema));
  }

  async read<T>(
    target: ShardTarget,
    fn: (sql: Sql, schema: string) => Promise<T>,
    options: ReadOptions<T> = {},
  ): Promise<T> {
    shardQueriesTotal.inc({ shard: String(target.physical), kind: 'read' });
    return target.cluster.read((sql) => fn(sql, target.schema), options);
  }

  /** Group ids by physical shard, so a multi-get costs one query per shard touched. */
  groupPostIds(ids: bigint[]): Map<number, { target: ShardTarget; ids: Map<string, bigint[]> }> {
    const byPhysical = new Map<number, { target: ShardTarget; ids: Map<string, bigint[]> }>();
    for (const id of ids) {
      const t = this.forPost(id);
      let entry = byPhysical.get(t.physical);
      if (!entry) {
        entry = { target: t, ids: new Map() };
        byPhysical.set(t.physical, entry);
      }
      const list = entry.ids.get(t.schema) ?? [];
      list.push(id);
      entry.ids.set(t.schema, list);
    }
    return byPhysical;
  }
}
