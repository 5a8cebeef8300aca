import { testTopology, withPostgres } from '@murmur/testing';
import { LOGICAL_SHARDS, logicalShardOfPostId, shardSchema, timestampOfPostId } from './post-id';

/**
 * The id bits Postgres writes (`shard_NN.next_id()`, the shard migration) against the TypeScript
 * decoder that routes by them, for all 64 logical shards on every physical shard database of the
 * test stack: each schema exists, and each id it hands out decodes to its own logical shard and
 * to the time it was made, and grows.
 */
describe('post ids of all 64 logical shards (real shard databases)', () => {
  const t = testTopology();
  const physical = Array.from({ length: t.physicalShards }, (_, i) => `shard-${i}`);

  /** The node of a cluster that is primary now (a failover test may have moved it). */
  const primaryOf = async (cluster: string): Promise<string> => {
    for (const node of t.postgres.filter((n) => n.cluster === cluster)) {
      const inRecovery = await withPostgres(node.name, t.database.shardDatabase, async (c) => {
        return (await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0].r;
      });
      if (!inRecovery) {
        return node.name;
      }
    }
    throw new Error(`no primary in ${cluster}`);
  };

  it.each(physical)(
    '%s: every logical shard makes ids that decode to itself and to now',
    async (cluster) => {
      const node = await primaryOf(cluster);
      const wrong = await withPostgres(node, t.database.shardDatabase, async (c) => {
        const problems: string[] = [];
        for (let logical = 0; logical < LOGICAL_SHARDS; logical++) {
          const schema = shardSchema(logical);
          const before = Date.now();
          const { rows } = await c.query<{ a: string; b: string }>(
            `SELECT ${schema}.next_id()::text AS a, ${schema}.next_id()::text AS b`,
          );
          const after = Date.now();
          const [a, b] = [BigInt(rows[0].a), BigInt(rows[0].b)];
          const at = timestampOfPostId(a).getTime();
          if (logicalShardOfPostId(a) !== logical || logicalShardOfPostId(b) !== logical) {
            problems.push(`${schema}: ids ${a} ${b} decode to ${logicalShardOfPostId(a)}`);
          }
          if (at < before - 5 || at > after + 5) {
            problems.push(
              `${schema}: id ${a} decodes to ${at}, made between ${before} and ${after}`,
            );
          }
          if (b <= a) {
            problems.push(`${schema}: ${b} after ${a}`);
          }
        }
        return problems;
      });
      expect(wrong).toEqual([]);
    },
  );
});
