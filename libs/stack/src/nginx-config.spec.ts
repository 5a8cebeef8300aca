import { renderNginxConfig } from './nginx-config';
import { buildTopology } from './topology';

describe(renderNginxConfig.name, () => {
  const t = buildTopology({ profile: 'test', root: '/repo' });
  const conf = renderNginxConfig(t, { sharedDir: '/repo/infra/nginx/conf.d' });

  it('gives each service a least_conn pool with keepalive and passive health checks over all its processes', () => {
    for (const pool of ['user', 'post', 'feed', 'leaderboard']) {
      expect(conf).toMatch(
        new RegExp(
          `upstream ${pool}_pool \\{\\n    least_conn;\\n(    server 127\\.0\\.0\\.1:\\d+ max_fails=3 fail_timeout=10s;\\n){2}    keepalive 32;`,
        ),
      );
    }
  });

  it('listens on the profile port, includes the shared files and keeps state in the stack dir', () => {
    expect(conf).toContain(`listen 127.0.0.1:${t.nginx.port} reuseport;`);
    expect(conf).toContain('include /repo/infra/nginx/conf.d/murmur-routes.conf;');
    expect(conf).toContain(`pid ${t.nginx.dir}/nginx.pid;`);
    expect(conf).not.toContain('user ');
  });
});
