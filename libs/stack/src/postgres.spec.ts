import { postgresSettings } from './postgres';
import { buildTopology, type PostgresNode } from './topology';

describe(postgresSettings.name, () => {
  const primary = (profile: 'dev' | 'test'): { conf: string; node: PostgresNode } => {
    const t = buildTopology({ profile, root: '/repo' });
    const node = t.postgres[0];
    return { conf: postgresSettings(t, node), node };
  };

  it('makes every node able to serve and feed streaming replicas', () => {
    const { conf, node } = primary('dev');
    expect(conf).toContain('wal_level = replica');
    expect(conf).toMatch(/^max_wal_senders = \d+$/m);
    expect(conf).toContain('hot_standby = on');
    expect(conf).toContain('hot_standby_feedback = on');
    expect(conf).toContain(`cluster_name = '${node.name}'`);
  });

  it('listens on 127.0.0.1 only and makes no socket file outside the stack', () => {
    const { conf } = primary('dev');
    expect(conf).toContain("listen_addresses = '127.0.0.1'");
    expect(conf).toContain("unix_socket_directories = ''");
  });

  it('trades durability for speed in the test profile only', () => {
    for (const setting of ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off']) {
      expect(primary('test').conf).toContain(setting);
      expect(primary('dev').conf).not.toContain(setting);
    }
  });

  it('makes a commit wait for one standby where a cluster has two, so a failover loses none', () => {
    const t = buildTopology({ profile: 'dev', root: '/repo' });
    for (const node of t.postgres) {
      const conf = postgresSettings(t, node);
      if (node.cluster === 'main') {
        expect(conf).toContain("synchronous_standby_names = 'ANY 1 (*)'");
      } else {
        // one standby per shard: waiting for it would stall every write while it is down
        expect(conf).not.toContain('synchronous_standby_names');
      }
    }
  });
});
