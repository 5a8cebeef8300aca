import {
  type EdgeConfig,
  localEdgeConfig,
  renderEdgeConfig,
  renderNginxConfig,
  renderUpstream,
} from './nginx-config';
import { buildTopology } from './topology';

describe(renderNginxConfig.name, () => {
  const t = buildTopology({ profile: 'test', root: '/repo' });
  const shared = '/repo/infra/nginx/conf.d';
  const conf = renderNginxConfig(t, { sharedDir: shared });

  it('gives each service a least_conn pool with keepalive and passive health checks over all its processes', () => {
    for (const pool of ['user', 'post', 'feed', 'leaderboard']) {
      const ports = t.services
        .filter((s) => s.service === pool && s.entry === 'main')
        .map((s) => s.port);
      expect(ports).toHaveLength(2);
      const block = conf.slice(conf.indexOf(`upstream ${pool}_pool {`));
      const body = block.slice(0, block.indexOf('}'));
      expect(body).toContain('least_conn;');
      expect(body).toMatch(/keepalive \d+;/);
      for (const port of ports) {
        expect(body).toContain(`server 127.0.0.1:${port} max_fails=3 fail_timeout=10s;`);
      }
    }
  });

  it('leaves the workers out of the pools (they serve no HTTP API)', () => {
    const workers = t.services.filter((s) => s.entry === 'worker');
    for (const w of workers) {
      expect(conf).not.toContain(`127.0.0.1:${w.port}`);
    }
  });

  it('listens on the profile port, includes the shared files and keeps its state in the stack dir', () => {
    expect(conf).toContain(`listen 127.0.0.1:${t.nginx.port} reuseport;`);
    for (const file of ['murmur-http.conf', 'murmur-routes.conf', 'problem-json.conf']) {
      expect(conf).toContain(`include ${shared}/${file};`);
    }
    expect(conf).toContain(`pid ${t.nginx.dir}/nginx.pid;`);
    expect(conf).toContain(`client_body_temp_path ${t.nginx.dir}/tmp/client_body;`);
    expect(conf).toContain(`proxy_temp_path ${t.nginx.dir}/tmp/proxy;`);
    expect(conf).toContain(`access_log ${t.nginx.dir}/access.log murmur_json`);
    expect(conf).toContain('error_log stderr warn;');
  });

  it('sets a worker user only when asked (the master runs as root)', () => {
    expect(conf).not.toMatch(/^user /m);
    expect(renderNginxConfig(t, { sharedDir: shared, workerUser: 'nobody nogroup' })).toMatch(
      /^user nobody nogroup;$/m,
    );
  });

  it('follows a custom NGINX port', () => {
    const custom = buildTopology({ profile: 'dev', root: '/repo', nginxPort: 9090 });
    expect(renderNginxConfig(custom, { sharedDir: shared })).toContain(
      'listen 127.0.0.1:9090 reuseport;',
    );
  });
});

describe(renderEdgeConfig.name, () => {
  const container: EdgeConfig = {
    origin: 'kubernetes',
    listen: '8080',
    sharedDir: '/etc/nginx/murmur',
    accessLog: '/dev/stdout',
    errorLog: 'stderr',
    resolver: 'kube-dns.kube-system.svc.cluster.local',
    pools: ['user', 'post', 'feed', 'leaderboard'].map((name) => ({
      name: name as 'user',
      servers: [`${name}.murmur.svc.cluster.local:3000`],
    })),
  };

  it('re-resolves pool host names through the resolver in containers', () => {
    const conf = renderEdgeConfig(container);
    expect(conf).toContain('resolver kube-dns.kube-system.svc.cluster.local valid=5s ipv6=off;');
    expect(conf).toContain(
      'server user.murmur.svc.cluster.local:3000 resolve max_fails=3 fail_timeout=10s;',
    );
    expect(conf).toContain('access_log /dev/stdout murmur_json;');
    expect(conf).not.toContain('pid ');
    expect(conf).not.toContain('_temp_path');
  });

  it('refuses a config without a pool the routes need', () => {
    expect(() =>
      renderEdgeConfig({ ...container, pools: container.pools.filter((p) => p.name !== 'feed') }),
    ).toThrow(/feed/);
  });
});

describe(renderUpstream.name, () => {
  it('refuses an empty pool', () => {
    const edge = localEdgeConfig(buildTopology({ root: '/repo' }), { sharedDir: '/x' });
    expect(() => renderUpstream({ name: 'user', servers: [] }, edge)).toThrow(/no servers/);
  });
});
