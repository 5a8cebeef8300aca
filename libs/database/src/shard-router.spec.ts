import { composePostId, logicalShardForUser } from './post-id';
import type { ReplicatedCluster } from './replicated-cluster';
import { ShardRouter } from './shard-router';

const cluster = (name: string): ReplicatedCluster => ({ name }) as ReplicatedCluster;

describe(ShardRouter.name, () => {
  const clusters = [cluster('shard-0'), cluster('shard-1')];

  it('places logical shards round-robin on physical shards by default', () => {
    const sut = new ShardRouter(clusters);
    expect(sut.target(0).physical).toBe(0);
    expect(sut.target(1).physical).toBe(1);
    expect(sut.target(63).cluster.name).toBe('shard-1');
  });

  it('routes a post by the shard encoded in its id, and an author by hash', () => {
    const sut = new ShardRouter(clusters);
    const author = '4242';
    const logical = logicalShardForUser(author);
    const id = composePostId(Date.now(), logical, 7);
    expect(sut.forPost(id)).toEqual(sut.forAuthor(author));
    expect(sut.forPost(id).schema).toBe(`shard_${String(logical).padStart(2, '0')}`);
  });

  it('honours overrides (a moved logical shard) and refuses missing targets', () => {
    expect(new ShardRouter(clusters, { '2': 1 }).target(2).physical).toBe(1);
    expect(() => new ShardRouter(clusters, { '2': 5 })).toThrow(RangeError);
  });

  it('groups a multi-get by physical shard and schema', () => {
    const sut = new ShardRouter(clusters);
    const ids = [
      composePostId(Date.now(), 0, 1),
      composePostId(Date.now(), 2, 2),
      composePostId(Date.now(), 1, 3),
    ];
    const groups = sut.groupPostIds(ids);
    expect([...groups.keys()].sort()).toEqual([0, 1]);
    expect([...(groups.get(0)?.ids.keys() ?? [])].sort()).toEqual(['shard_00', 'shard_02']);
  });
});
