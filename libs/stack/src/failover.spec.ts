import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  assignPrimary,
  chooseTarget,
  type FailoverSummary,
  formatFailover,
  withCurrentRoles,
  writePrimaries,
} from './failover';
import type { PgNodeStatus } from './postgres';
import { buildTopology, serviceEnv, type Topology } from './topology';

describe('failover of a local Postgres cluster', () => {
  let root: string;
  let t: Topology;
  const main = (): Topology['postgres'] => t.postgres.filter((n) => n.cluster === 'main');
  const node = (name: string): Topology['postgres'][number] =>
    t.postgres.find((n) => n.name === name) as Topology['postgres'][number];

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'murmur-failover-'));
    t = buildTopology({ profile: 'test', root });
    mkdirSync(path.join(t.stateDir, 'pg'), { recursive: true });
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  describe(chooseTarget.name, () => {
    const statuses = (
      s: Record<string, PgNodeStatus>,
    ): Map<Topology['postgres'][number], PgNodeStatus> =>
      new Map(Object.entries(s).map(([name, status]) => [node(name), status]));

    it('promotes the standby that has received the most WAL', () => {
      const status = statuses({
        'pg-main-primary': { reachable: false },
        'pg-main-replica-1': { reachable: true, standby: true, lsn: '0/3000060' },
        'pg-main-replica-2': { reachable: true, standby: true, lsn: '1/00000010' },
      });
      expect(chooseTarget(main(), node('pg-main-primary'), status, undefined).name).toBe(
        'pg-main-replica-2',
      );
    });

    it('promotes the standby asked for, and only a standby that answers', () => {
      const status = statuses({
        'pg-main-primary': { reachable: true, standby: false, lsn: '0/5' },
        'pg-main-replica-1': { reachable: true, standby: true, lsn: '0/4' },
        'pg-main-replica-2': { reachable: false },
      });
      const old = node('pg-main-primary');
      expect(chooseTarget(main(), old, status, 'pg-main-replica-1').name).toBe('pg-main-replica-1');
      expect(() => chooseTarget(main(), old, status, 'pg-main-replica-2')).toThrow(/not a standby/);
      expect(() => chooseTarget(main(), old, status, 'pg-main-primary')).toThrow(/not a standby/);
      expect(() => chooseTarget(main(), old, status, 'nope')).toThrow(/no node "nope"/);
    });

    it('refuses when no standby answers', () => {
      const status = statuses({
        'pg-main-primary': { reachable: false },
        'pg-main-replica-1': { reachable: false },
        'pg-main-replica-2': { reachable: false },
      });
      expect(() => chooseTarget(main(), node('pg-main-primary'), status, undefined)).toThrow(
        /nothing to promote/,
      );
    });
  });

  it('keeps a promoted standby primary across restarts, and the services are told so', () => {
    assignPrimary(t, 'main', 'pg-main-replica-1');
    writePrimaries(t);
    const again = withCurrentRoles(buildTopology({ profile: 'test', root }));
    const roles = again.postgres
      .filter((n) => n.cluster === 'main')
      .map((n) => [n.name, n.role, n.primaryPort]);
    const promoted = node('pg-main-replica-1').port;
    expect(roles).toEqual([
      ['pg-main-primary', 'replica', promoted],
      ['pg-main-replica-1', 'primary', undefined],
      ['pg-main-replica-2', 'replica', promoted],
    ]);
    const env = serviceEnv(again, again.services[0]);
    expect(env.DATABASE_URL).toContain(`:${promoted}/`);
    expect(env.DATABASE_REPLICA_URLS.split(',')).toHaveLength(2);
    // the shards keep their own primaries
    expect(again.postgres.find((n) => n.name === 'pg-shard-0-primary')?.role).toBe('primary');
  });

  it('uses the topology as built when no failover happened', () => {
    expect(withCurrentRoles(buildTopology({ profile: 'test', root }))).toEqual(t);
  });

  it(`${formatFailover.name} says what happened and when`, () => {
    const summary: FailoverSummary = {
      cluster: 'main',
      oldPrimary: 'pg-main-primary',
      newPrimary: 'pg-main-replica-2',
      fenced: 'killed',
      promotedMs: 412,
      writableMs: 430,
      servicesMs: 520,
      services: ['user-1', 'user-2'],
      followers: [{ name: 'pg-main-primary', how: 'rebuilt', ms: 2_900 }],
      totalMs: 2_950,
    };
    const text = formatFailover(summary);
    expect(text).toContain('failover of main: pg-main-primary → pg-main-replica-2 in 3.0 s');
    expect(text).toMatch(/pg-main-replica-2 promoted\s+0\.4 s/);
    expect(text).toMatch(/writes from every service process \(2\)\s+0\.5 s/);
    expect(text).toContain('service processes: user-1, user-2');
    expect(text).toMatch(/pg-main-primary rebuilt, streaming\s+2\.9 s/);
  });
});
