import type { ClusterHealth } from '@murmur/database';
import { databaseReadiness } from './readiness';

describe(databaseReadiness.name, () => {
  let health: ClusterHealth;
  const sut = databaseReadiness({ name: 'shard-0', health: () => health });
  const byName = (name: string) => sut.find((c) => c.name === name);
  const node = (name: string, role: 'primary' | 'replica', up: boolean) => ({ name, role, up });

  const states = async (): Promise<Array<[string, boolean, boolean]>> =>
    Promise.all(
      sut.map(async (c) => [c.name, c.critical, await c.check()] as [string, boolean, boolean]),
    );

  it('is ready and names the primary while it answers', async () => {
    health = {
      primary: 'a:1',
      reachable: 2,
      nodes: [node('a:1', 'primary', true), node('b:2', 'replica', true)],
    };
    await expect(states()).resolves.toEqual([
      ['postgres-shard-0', true, true],
      ['postgres-shard-0-primary', false, true],
    ]);
    expect(byName('postgres-shard-0-primary')?.details?.()).toEqual({ node: 'a:1' });
    expect(byName('postgres-shard-0')?.details?.()).toEqual({
      nodes: ['a:1 primary up', 'b:2 replica up'],
    });
  });

  it('stays ready, degraded, with the primary down and a replica answering', async () => {
    health = { reachable: 1, nodes: [node('a:1', 'primary', false), node('b:2', 'replica', true)] };
    await expect(states()).resolves.toEqual([
      ['postgres-shard-0', true, true],
      ['postgres-shard-0-primary', false, false],
    ]);
    expect(byName('postgres-shard-0-primary')?.details?.()).toEqual({ node: null });
  });

  it('is unready when no node of the cluster answers', async () => {
    health = {
      reachable: 0,
      nodes: [node('a:1', 'primary', false), node('b:2', 'replica', false)],
    };
    await expect(byName('postgres-shard-0')?.check()).resolves.toBe(false);
  });
});
