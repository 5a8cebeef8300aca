import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  EDGE_LB_ALGORITHMS,
  EDGE_RATE_LIMIT_DEFAULTS,
  lbDirective,
  localCertificate as localStackCertificate,
  type EdgeLb,
  type EdgeRateLimits,
} from '@murmur/stack';
import YAML from 'yaml';
import {
  composeNginxConfig,
  edgeFiles,
  kubernetesNginxConfig,
  SHARED_CONF_FILES,
} from './edge-configs';
import { answer200, describeWithNginx, type StubHandler, withEdge } from './edge.spec-helper';
import { REPO_ROOT } from './manifests';

const read = (file: string): string => readFileSync(path.join(REPO_ROOT, file), 'utf8');

/**
 * The local NGINX (Debian's 1.22) predates `server … resolve` (1.27.3). Everything else of the
 * compose and Kubernetes configs is checked by `nginx -t` after the environment-only parts are
 * made local: `resolve` dropped, container host names pointed at 127.0.0.1, paths into a temp dir.
 */
function nginxTest(config: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'murmur-nginx-'));
  // As the gateway container's command does (`mkdir -p /tmp/nginx/tmp /tmp/nginx/cache`) before NGINX starts.
  mkdirSync(path.join(dir, 'tmp'));
  mkdirSync(path.join(dir, 'cache'));
  try {
    const local = config
      .replace(/^user .*;$/m, '')
      .replace(/ resolve /g, ' ')
      .replace(/^(\s*)resolver .*;$/m, '$1resolver 127.0.0.1 valid=5s ipv6=off;')
      .replace(/server [a-z0-9.-]+:3000/g, 'server 127.0.0.1:3000')
      .replaceAll('/etc/nginx/murmur/conf.d', path.join(REPO_ROOT, 'infra/nginx/conf.d'))
      // compose mounts one of the two switch files there
      .replace(
        '/etc/nginx/murmur/edge-cache.conf',
        path.join(REPO_ROOT, 'infra/nginx/conf.d/edge-cache-on.conf'),
      )
      .replace('/var/cache/nginx/murmur', path.join(dir, 'cache'))
      // the container's certificate (edge-tls, a Secret): a local one; HTTP/2 as NGINX 1.22 spells it
      .replaceAll('/etc/nginx/tls', localCertificate(dir).dir)
      .replace(/listen (\d+) ssl reuseport;\n(\s*)http2 on;/, 'listen $1 ssl http2 reuseport;')
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

  it('has a compose main file per load-balancing algorithm, each with its directive in every pool', () => {
    for (const lb of EDGE_LB_ALGORITHMS) {
      const config = composeNginxConfig(lb);
      const pools = config.split('upstream ').slice(1);
      expect(pools).toHaveLength(4);
      for (const pool of pools) {
        const directives = pool.match(/^\s*(least_conn|ip_hash|hash [^;]+);/gm) ?? [];
        expect(directives.map((d) => d.trim())).toEqual(
          lb === 'round_robin' ? [] : [lbDirective(lb)],
        );
      }
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
    for (const [original, copies] of [
      [
        'deploy/docker/postgres/app-roles.sh',
        ['deploy/k8s/base/scripts/app-roles.sh', 'deploy/helm/murmur/files/scripts/app-roles.sh'],
      ],
      [
        'deploy/docker/redis/users-acl.sh',
        ['deploy/k8s/base/scripts/users-acl.sh', 'deploy/helm/murmur/files/scripts/users-acl.sh'],
      ],
    ] as const) {
      for (const copy of copies) {
        expect([copy, read(copy) === read(original)]).toEqual([copy, true]);
      }
    }
    expect(SHARED_CONF_FILES.length).toBeGreaterThan(0);
  });

  it('applies the same edge limits in compose, Kubernetes and the chart (with its default values)', () => {
    const limitLines = (config: string): string[] =>
      config
        .split('\n')
        .filter((l) => l.includes('limit_req'))
        .map((l) => l.trim());
    const helm = renderChartFile(read('deploy/helm/murmur/files/nginx.conf'), 'murmur');
    expect(helm).toBe(kubernetesNginxConfig('murmur'));
    const expected = [
      `limit_req_zone $binary_remote_addr zone=murmur_api:10m rate=${EDGE_RATE_LIMIT_DEFAULTS.api.rate}r/s;`,
      `limit_req_zone $murmur_auth_limit_key zone=murmur_auth:10m rate=${EDGE_RATE_LIMIT_DEFAULTS.auth.rate}r/s;`,
      `limit_req zone=murmur_api burst=${EDGE_RATE_LIMIT_DEFAULTS.api.burst} nodelay;`,
      `limit_req zone=murmur_auth burst=${EDGE_RATE_LIMIT_DEFAULTS.auth.burst} nodelay;`,
    ];
    for (const config of [composeNginxConfig(), kubernetesNginxConfig('murmur'), helm]) {
      expect(limitLines(config)).toEqual(expected);
    }
  });

  describeWithNginx('nginx -t (local NGINX, without `resolve`)', () => {
    it.each([
      ...EDGE_LB_ALGORITHMS.map((lb: EdgeLb) => [
        `compose (${lb}, edge cache on)`,
        composeNginxConfig(lb),
      ]),
      ['kubernetes', kubernetesNginxConfig('murmur')],
      [
        'kubernetes (hash_user, edge cache on)',
        kubernetesNginxConfig('murmur', 'cluster.local', EDGE_RATE_LIMIT_DEFAULTS, {
          lb: 'hash_user',
          edgeCache: 'on',
        }),
      ],
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

  describeWithNginx('the edge limits at work (local NGINX)', () => {
    it('refuses past a zone with a problem+json 429 and Retry-After; health checks are not counted, other routes not in the auth zone', async () => {
      const limits: EdgeRateLimits = {
        api: { rate: 1, burst: 4 },
        auth: { rate: 1, burst: 1 },
      };
      await withEdge(limits, async ({ base, errorLog }) => {
        const health = [];
        for (let i = 0; i < 20; i++) {
          health.push((await fetch(`${base}/nginx/health`)).status);
        }
        expect(new Set(health)).toEqual(new Set([200]));

        const logins = [];
        for (let i = 0; i < 3; i++) {
          logins.push(await fetch(`${base}/api/sessions`, { method: 'POST', body: '{}' }));
        }
        expect(logins.map((r) => r.status)).toEqual([200, 200, 429]);
        const refused = logins[2];
        const requestId = refused.headers.get('x-request-id');
        expect(refused.headers.get('content-type')).toBe('application/problem+json');
        expect(refused.headers.get('retry-after')).toBe('1');
        expect(requestId).toMatch(/^[0-9a-f]{32}$/);
        expect(await refused.json()).toMatchObject({
          status: 429,
          code: 'rate_limited',
          requestId,
        });
        expect(errorLog()).toMatch(/\[warn\].*limiting requests, excess: .* by zone "murmur_auth"/);

        // Not a log-in or sign-up: only the API zone counts it (two admitted so far, burst 4).
        const follow = await fetch(`${base}/api/users/7/follow`, { method: 'POST' });
        expect(follow.status).toBe(200);
        const reads = [];
        for (let i = 0; i < 5; i++) {
          reads.push((await fetch(`${base}/api/posts`)).status);
        }
        expect(reads).toEqual([200, 200, 429, 429, 429]);
        expect(errorLog()).toMatch(/by zone "murmur_api"/);
      });
    });
  });

  describeWithNginx('overload at the edge (local NGINX)', () => {
    const noLimits: EdgeRateLimits = { api: false, auth: false };
    // /api/feed is slow (a saturated service), /api/posts answers its own 503 (shedding).
    const handler: StubHandler = (req, res) => {
      req.resume();
      if (req.url?.startsWith('/api/posts')) {
        res
          .writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '1' })
          .end('{"status":503,"code":"overloaded"}');
        return;
      }
      const delay = req.url?.startsWith('/api/feed') ? 400 : 0;
      setTimeout(() => answer200(req, res, 0), delay);
    };

    it('answers past max_conns with its own fast 503 problem+json and Retry-After, not a 502', async () => {
      await withEdge(
        noLimits,
        async ({ base }) => {
          const started = Date.now();
          const answers = await Promise.all(
            Array.from({ length: 6 }, () => fetch(`${base}/api/feed`)),
          );
          const statuses = answers.map((r) => r.status).sort();
          // one server, max_conns 2: two are served, four refused at once
          expect(statuses).toEqual([200, 200, 503, 503, 503, 503]);
          const refused = answers.find((r) => r.status === 503);
          expect(refused?.headers.get('content-type')).toBe('application/problem+json');
          expect(refused?.headers.get('retry-after')).toBe('1');
          expect(await refused?.json()).toMatchObject({
            status: 503,
            code: 'upstream_unavailable',
          });
          expect(Date.now() - started).toBeLessThan(2_000);
        },
        { handler, maxConns: 2 },
      );
    });

    it("passes a service's own 503 on without retrying or ejecting the server", async () => {
      let served = 0;
      const counting: StubHandler = (req, res) => {
        served++;
        handler(req, res, 0);
      };
      await withEdge(
        noLimits,
        async ({ base }) => {
          for (let i = 0; i < 10; i++) {
            const r = await fetch(`${base}/api/posts`);
            expect(r.status).toBe(503);
            expect(await r.json()).toMatchObject({ code: 'overloaded' });
          }
          // one try each (no retry of a 503 on the other server), and both servers are still in
          // the pool afterwards (ten 503s are far past max_fails=3)
          expect(served).toBe(10);
          const after = await Promise.all(
            Array.from({ length: 8 }, () => fetch(`${base}/api/users/7`)),
          );
          expect(after.map((r) => r.status)).toEqual(after.map(() => 200));
        },
        { handler: counting, servers: 2 },
      );
    });
  });
});

/** A self-signed certificate as tls.crt / tls.key in `<dir>/tls`, as the containers mount them. */
function localCertificate(dir: string): { dir: string } {
  const tls = path.join(dir, 'tls');
  if (!existsSync(path.join(tls, 'tls.crt'))) {
    const made = localStackCertificate(dir);
    renameSync(made.certificate, path.join(tls, 'tls.crt'));
    renameSync(made.key, path.join(tls, 'tls.key'));
  }
  return { dir: tls };
}

/** The chart's copy of a generated file as `tpl` renders it with the default values.yaml. */
function renderChartFile(text: string, namespace: string): string {
  const values = YAML.parse(read('deploy/helm/murmur/values.yaml')) as Record<string, unknown>;
  const gateway = values.gateway as { loadBalancing: EdgeLb; edgeCache: { enabled: boolean } };
  const rendered = text
    // gateway.tls.enabled is false by default: the TLS listener's lines go
    .replace(/\n\s*\{\{- if \.Values\.gateway\.tls\.enabled \}\}[\s\S]*?\{\{- end \}\}/, '')
    // gateway.trustedProxies is empty by default: its block renders nothing
    .replace(
      /\n\s*\{\{- with \.Values\.gateway\.trustedProxies \}\}[\s\S]*?\{\{- end \}\}\s*\{\{- end \}\}/,
      '',
    )
    .replaceAll('{{ include "murmur.gateway.lb" . }}', lbDirective(gateway.loadBalancing) ?? '')
    .replace(
      '{{ ternary "on" "off" .Values.gateway.edgeCache.enabled }}',
      gateway.edgeCache.enabled ? 'on' : 'off',
    )
    .replace(
      /\{\{ (?:int )?\.(Release\.Namespace|Values(?:\.[A-Za-z][A-Za-z0-9]*)+) \}\}/g,
      (_action, ref: string) => {
        if (ref === 'Release.Namespace') {
          return namespace;
        }
        const value = ref
          .split('.')
          .slice(1)
          .reduce<unknown>(
            (node, key) => (node as Record<string, unknown> | undefined)?.[key],
            values,
          );
        if (typeof value !== 'number' && typeof value !== 'string') {
          throw new Error(`values.yaml has no .${ref}`);
        }
        return String(value);
      },
    );
  expect(rendered).not.toContain('{{');
  return rendered;
}
