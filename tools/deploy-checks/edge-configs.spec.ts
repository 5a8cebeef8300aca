import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  composeNginxConfig,
  edgeFiles,
  kubernetesNginxConfig,
  SHARED_CONF_FILES,
} from './edge-configs';
import { REPO_ROOT } from './manifests';

const read = (file: string): string => readFileSync(path.join(REPO_ROOT, file), 'utf8');
const hasNginx = spawnSync('nginx', ['-v'], { encoding: 'utf8' }).status === 0;

/**
 * The local NGINX (Debian's 1.22) predates `server … resolve` (1.27.3). Everything else of the
 * compose and Kubernetes configs is checked by `nginx -t` after the environment-only parts are
 * made local: `resolve` dropped, container host names pointed at 127.0.0.1, paths into a temp dir.
 */
function nginxTest(config: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'murmur-nginx-'));
  // As the gateway container's command does (`mkdir -p /tmp/nginx/tmp`) before NGINX starts.
  mkdirSync(path.join(dir, 'tmp'));
  try {
    const local = config
      .replace(/^user .*;$/m, '')
      .replace(/ resolve /g, ' ')
      .replace(/^(\s*)resolver .*;$/m, '$1resolver 127.0.0.1 valid=5s ipv6=off;')
      .replace(/server [a-z0-9.-]+:3000/g, 'server 127.0.0.1:3000')
      .replaceAll('/etc/nginx/murmur/conf.d', path.join(REPO_ROOT, 'infra/nginx/conf.d'))
      .replaceAll('/tmp/nginx', dir)
      // No terminal under Jest: the access log goes to a file instead of the container's stdout.
      .replaceAll('/dev/stdout', path.join(dir, 'access.log'));
    const file = path.join(dir, 'nginx.conf');
    writeFileSync(file, /^pid /m.test(local) ? local : `pid ${dir}/nginx.pid;\n${local}`);
    const r = spawnSync('nginx', ['-t', '-p', dir, '-c', file, '-e', path.join(dir, 'error.log')], {
      encoding: 'utf8',
    });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('edge configs for compose and Kubernetes', () => {
  it.each(edgeFiles(read).map((f) => [f.file, f]))(
    '%s is the generator output (node dist/tools/deploy-checks/render-edge-configs.js)',
    (_file, f) => {
      expect(read(f.file)).toBe(f.content());
    },
  );

  it('re-resolves DNS: every pool server has `resolve` and a resolver is set', () => {
    for (const config of [composeNginxConfig(), kubernetesNginxConfig('murmur')]) {
      const servers = config
        .split('\n')
        .filter((l) => l.trim().startsWith('server ') && l.includes(':3000'));
      expect(servers).toHaveLength(4);
      for (const line of servers) {
        expect(line).toMatch(/ resolve /);
      }
      expect(config).toMatch(/^\s*resolver \S+ valid=5s/m);
      expect(config).toMatch(/least_conn;/);
    }
  });

  it('keeps the Kubernetes and Postgres scripts copies in step with their sources', () => {
    expect(read('deploy/k8s/base/postgres/10-replication.sh')).toBe(
      read('deploy/docker/postgres/10-replication.sh'),
    );
    expect(read('deploy/helm/murmur/files/postgres/10-replication.sh')).toBe(
      read('deploy/docker/postgres/10-replication.sh'),
    );
    expect(read('deploy/helm/murmur/files/postgres/entrypoint.sh')).toBe(
      read('deploy/k8s/base/postgres/entrypoint.sh'),
    );
    expect(SHARED_CONF_FILES.length).toBeGreaterThan(0);
  });

  (hasNginx ? describe : describe.skip)('nginx -t (local NGINX, without `resolve`)', () => {
    it.each([
      ['compose', composeNginxConfig()],
      ['kubernetes', kubernetesNginxConfig('murmur')],
    ])('%s config passes', (_name, config) => {
      const result = nginxTest(config);
      expect(result).toEqual({
        ok: true,
        output: expect.stringMatching(/test is successful/) as string,
      });
    });

    it('fails a broken config (the check can fail)', () => {
      expect(nginxTest(composeNginxConfig().replace('least_conn;', 'least_connn;')).ok).toBe(false);
    });
  });
});
