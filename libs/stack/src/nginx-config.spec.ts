import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  EDGE_CONN_LIMIT_DEFAULT,
  EDGE_RATE_LIMIT_DEFAULTS,
  type EdgeConfig,
  edgeRateLimitsFromEnv,
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
        expect(body).toContain(
          `server 127.0.0.1:${port} max_fails=3 fail_timeout=10s max_conns=256;`,
        );
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
      'server user.murmur.svc.cluster.local:3000 resolve max_fails=3 fail_timeout=10s max_conns=256;',
    );
    expect(conf).toContain('access_log /dev/stdout murmur_json;');
    expect(conf).not.toContain('pid ');
    expect(conf).not.toMatch(/^\s*\w+_temp_path /m);
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

describe(`${renderEdgeConfig.name}: edge rate limits`, () => {
  const t = buildTopology({ profile: 'test', root: '/repo' });
  const render = (edge: Partial<EdgeConfig> = {}): string =>
    renderEdgeConfig({ ...localEdgeConfig(t, { sharedDir: '/x' }), ...edge });
  /** The http-level part before the first upstream, and the server block. */
  const http = (conf: string): string => conf.slice(0, conf.indexOf('upstream '));
  const server = (conf: string): string => conf.slice(conf.indexOf('  server {'));

  it('declares a per-address zone for the whole API and one for log-in and sign-up, at http level', () => {
    const conf = render();
    expect(http(conf)).toContain(
      'limit_req_zone $binary_remote_addr zone=murmur_api:10m rate=10000r/s;',
    );
    // keyed by a map in murmur-http.conf: the address for POST /api/sessions|users, else empty
    expect(http(conf)).toContain(
      'limit_req_zone $murmur_auth_limit_key zone=murmur_auth:10m rate=100r/s;',
    );
  });

  it('applies both zones at server level with a burst and nodelay, before the shared routes', () => {
    const block = server(render());
    const api = block.indexOf('limit_req zone=murmur_api burst=5000 nodelay;');
    const auth = block.indexOf('limit_req zone=murmur_auth burst=200 nodelay;');
    expect(api).toBeGreaterThan(0);
    expect(auth).toBeGreaterThan(api);
    expect(block.indexOf('murmur-routes.conf')).toBeGreaterThan(auth);
  });

  it('renders the rates and bursts it is given', () => {
    const conf = render({
      rateLimits: { api: { rate: 2500, burst: 100 }, auth: { rate: 7, burst: 0 } },
    });
    expect(conf).toContain('zone=murmur_api:10m rate=2500r/s;');
    expect(conf).toContain('limit_req zone=murmur_api burst=100 nodelay;');
    expect(conf).toContain('zone=murmur_auth:10m rate=7r/s;');
    expect(conf).toContain('limit_req zone=murmur_auth burst=0 nodelay;');
  });

  it('leaves out a zone that is switched off, and both', () => {
    const noAuth = render({ rateLimits: { ...EDGE_RATE_LIMIT_DEFAULTS, auth: false } });
    expect(noAuth).toContain('zone=murmur_api');
    expect(noAuth).not.toContain('murmur_auth');
    const none = render({ rateLimits: { api: false, auth: false } });
    expect(none).not.toMatch(/limit_req/);
  });

  it('passes template actions through for Helm, and refuses a rate that is not a whole number ≥ 1', () => {
    const conf = render({
      rateLimits: {
        ...EDGE_RATE_LIMIT_DEFAULTS,
        api: { rate: '{{ int .Values.r }}', burst: '{{ int .Values.b }}' },
      },
    });
    expect(conf).toContain('rate={{ int .Values.r }}r/s;');
    expect(conf).toContain('burst={{ int .Values.b }} nodelay;');
    expect(() => render({ rateLimits: { api: { rate: 0, burst: 1 }, auth: false } })).toThrow(
      /api edge rate must be a whole number ≥ 1/,
    );
    expect(() => render({ rateLimits: { api: { rate: 10, burst: 1.5 }, auth: false } })).toThrow(
      /api edge burst/,
    );
  });

  it('limits the requests in progress per address at server level, 512 unless told otherwise', () => {
    const conf = render();
    expect(http(conf)).toContain('limit_conn_zone $binary_remote_addr zone=murmur_conn:10m;');
    expect(server(conf)).toContain('limit_conn murmur_conn 512;');
    // absent from a set of limits given without it: still the default
    expect(render({ rateLimits: { api: false, auth: false } })).toContain(
      'limit_conn murmur_conn 512;',
    );
    const custom = render({
      rateLimits: { ...EDGE_RATE_LIMIT_DEFAULTS, conn: { perAddress: 20 } },
    });
    expect(custom).toContain('limit_conn murmur_conn 20;');
    const off = render({ rateLimits: { ...EDGE_RATE_LIMIT_DEFAULTS, conn: false } });
    expect(off).not.toMatch(/limit_conn/);
    expect(
      render({
        rateLimits: { ...EDGE_RATE_LIMIT_DEFAULTS, conn: { perAddress: '{{ int .Values.c }}' } },
      }),
    ).toContain('limit_conn murmur_conn {{ int .Values.c }};');
    expect(() =>
      render({ rateLimits: { ...EDGE_RATE_LIMIT_DEFAULTS, conn: { perAddress: 0 } } }),
    ).toThrow(/connection limit must be a whole number ≥ 1/);
  });

  it('uses the defaults in the local stack unless told otherwise', () => {
    expect(renderNginxConfig(t, { sharedDir: '/x' })).toContain('rate=10000r/s;');
    expect(
      renderNginxConfig(t, {
        sharedDir: '/x',
        rateLimits: { api: { rate: 50_000, burst: 1 }, auth: false },
      }),
    ).toContain('zone=murmur_api:10m rate=50000r/s;');
  });
});

describe(`${renderEdgeConfig.name}: slow clients and proxies in front`, () => {
  const t = buildTopology({ profile: 'test', root: '/repo' });
  const render = (edge: Partial<EdgeConfig> = {}): string =>
    renderEdgeConfig({ ...localEdgeConfig(t, { sharedDir: '/x' }), ...edge });
  const http = (conf: string): string => conf.slice(0, conf.indexOf('upstream '));
  const server = (conf: string): string => conf.slice(conf.indexOf('  server {'));

  it('trusts no proxy by default: the peer is the client', () => {
    expect(render()).not.toContain('set_real_ip_from');
  });

  it('lists the trusted proxies at http level, and refuses what is not an address or CIDR', () => {
    const conf = render({ trustedProxies: ['10.244.0.0/16', '192.0.2.7', 'fd00::/8'] });
    expect(http(conf)).toContain(
      '  set_real_ip_from 10.244.0.0/16;\n  set_real_ip_from 192.0.2.7;\n  set_real_ip_from fd00::/8;\n',
    );
    for (const bad of ['10.244.0.0/33', 'example.com', '10.0.0.0/8/1', '']) {
      expect(() => render({ trustedProxies: [bad] })).toThrow(/IP address or CIDR/);
    }
    const template = '{{- range .Values.p }}\n  set_real_ip_from {{ . }};\n  {{- end }}';
    expect(http(render({ trustedProxies: template }))).toContain(`  ${template}\n`);
  });

  it("keeps the shared file's client timeouts unless a test shortens them at server level", () => {
    expect(server(render())).not.toMatch(/client_\w+_timeout|send_timeout|keepalive_timeout/);
    const short = server(render({ timeouts: { header: '2s', keepalive: '500ms' } }));
    expect(short).toContain('    client_header_timeout 2s;\n    keepalive_timeout 500ms;\n');
    expect(short.indexOf('client_header_timeout')).toBeLessThan(
      short.indexOf('murmur-routes.conf'),
    );
    expect(() => render({ timeouts: { body: 'ten' } })).toThrow(/body timeout/);
  });
});

describe('infra/nginx/conf.d: slow and oversized requests', () => {
  const shared = (file: string): string =>
    readFileSync(path.join(__dirname, '..', '..', '..', 'infra', 'nginx', 'conf.d', file), 'utf8');
  const kib = (v: string): number => Number(v.replace(/k$/, '')) * (v.endsWith('k') ? 1024 : 1);

  it('accepts no header section that Node (16 KiB) would refuse once NGINX has added its own', () => {
    const http = shared('murmur-http.conf');
    const [, first] = /^client_header_buffer_size (\d+k?);$/m.exec(http) ?? [];
    const [, count, size] = /^large_client_header_buffers (\d+) (\d+k?);$/m.exec(http) ?? [];
    // X-Request-Id (≤ 128 characters), X-Forwarded-For/-Proto, X-Request-Start, with their names
    const added = 512;
    expect(kib(first) + Number(count) * kib(size) + added).toBeLessThanOrEqual(16 * 1024);
  });

  it('bounds how long a client may take over its header, body, answer and idle connection', () => {
    const http = shared('murmur-http.conf');
    for (const [directive, seconds] of [
      ['client_header_timeout', 10],
      ['client_body_timeout', 10],
      ['send_timeout', 10],
      ['keepalive_timeout', 30],
    ] as const) {
      expect(http).toMatch(new RegExp(`^${directive} ${seconds}s;$`, 'm'));
    }
  });

  it('answers a too-large header itself with 431 problem+json, as a service would', () => {
    const errors = shared('problem-json.conf');
    expect(errors).toContain('error_page 494 = /_murmur/problem/494;');
    const page = errors.slice(errors.indexOf('location = /_murmur/problem/494 {'));
    const [, json] = /return 431 '([^']+)';/.exec(page.slice(0, page.indexOf('\n}'))) ?? [];
    expect(JSON.parse(json.replace('$murmur_request_id', 'r1'))).toMatchObject({
      status: 431,
      code: 'headers_too_large',
      requestId: 'r1',
    });
  });

  it('passes on only the address NGINX determined, never the X-Forwarded-For a client sent', () => {
    const routes = shared('murmur-routes.conf');
    expect(routes).toMatch(/^proxy_set_header X-Forwarded-For \$remote_addr;$/m);
    expect(routes).not.toMatch(/^\s*proxy_set_header X-Forwarded-For (?!\$remote_addr;)/m);
    const http = shared('murmur-http.conf');
    expect(http).toMatch(/^real_ip_header X-Forwarded-For;$/m);
    expect(http).toMatch(/^real_ip_recursive on;$/m);
  });
});

describe('infra/nginx/conf.d: edge rate limits', () => {
  const shared = (file: string): string =>
    readFileSync(path.join(__dirname, '..', '..', '..', 'infra', 'nginx', 'conf.d', file), 'utf8');

  it('refuses with 429 and logs refusals as warnings', () => {
    const http = shared('murmur-http.conf');
    expect(http).toMatch(/^limit_req_status 429;$/m);
    expect(http).toMatch(/^limit_req_log_level warn;$/m);
    expect(http).toMatch(/^limit_conn_status 429;$/m);
    expect(http).toMatch(/^limit_conn_log_level warn;$/m);
  });

  it('keys the auth zone on the address for POST /api/sessions and POST /api/users only', () => {
    const http = shared('murmur-http.conf');
    const map = http.slice(http.indexOf('map "$request_method:$uri" $murmur_auth_limit_key {'));
    const body = map.slice(0, map.indexOf('}'));
    expect(body).toMatch(/default\s+"";/);
    const [, pattern] = /"~(\^POST:[^"]+)"\s+\$binary_remote_addr;/.exec(body) ?? [];
    const re = new RegExp(pattern);
    expect(
      ['POST:/api/sessions', 'POST:/api/users', 'POST:/api/users/'].filter((k) => re.test(k)),
    ).toHaveLength(3);
    expect(
      [
        'GET:/api/users',
        'POST:/api/users/7/follow',
        'DELETE:/api/sessions',
        'POST:/api/posts',
      ].filter((k) => re.test(k)),
    ).toEqual([]);
  });

  it('answers its own 429 as problem+json with Retry-After and the request id', () => {
    const errors = shared('problem-json.conf');
    expect(errors).toContain('error_page 429 /_murmur/problem/429;');
    const page = errors.slice(errors.indexOf('location = /_murmur/problem/429 {'));
    const body = page.slice(0, page.indexOf('\n}'));
    expect(body).toContain('default_type application/problem+json;');
    expect(body).toContain('add_header Retry-After 1 always;');
    // an add_header in a location replaces the server's: the request id must be repeated
    expect(body).toContain('add_header X-Request-Id $murmur_request_id always;');
    const [, json] = /return 429 '([^']+)';/.exec(body) ?? [];
    expect(JSON.parse(json.replace('$murmur_request_id', 'r1'))).toEqual({
      type: 'urn:murmur:problem:rate_limited',
      title: 'Too Many Requests',
      status: 429,
      detail: expect.any(String) as string,
      code: 'rate_limited',
      requestId: 'r1',
    });
  });

  it('keeps limit_req out of the routes (a location-level one would replace the server-level zones)', () => {
    expect(shared('murmur-routes.conf')).not.toMatch(/^\s*limit_req /m);
  });
});

describe(edgeRateLimitsFromEnv.name, () => {
  it('falls back to the defaults when nothing is set', () => {
    expect(edgeRateLimitsFromEnv({})).toEqual(EDGE_RATE_LIMIT_DEFAULTS);
    expect(edgeRateLimitsFromEnv({ EDGE_RATE_PER_IP: '' })).toEqual(EDGE_RATE_LIMIT_DEFAULTS);
  });

  it('reads the rate and burst of each zone', () => {
    expect(
      edgeRateLimitsFromEnv({
        EDGE_RATE_PER_IP: '20000',
        EDGE_BURST_PER_IP: '0',
        EDGE_AUTH_RATE_PER_IP: ' 5 ',
        EDGE_AUTH_BURST_PER_IP: '10',
      }),
    ).toEqual({
      api: { rate: 20_000, burst: 0 },
      auth: { rate: 5, burst: 10 },
      conn: EDGE_CONN_LIMIT_DEFAULT,
    });
    expect(edgeRateLimitsFromEnv({ EDGE_AUTH_RATE_PER_IP: '50' })).toEqual({
      api: EDGE_RATE_LIMIT_DEFAULTS.api,
      auth: { rate: 50, burst: EDGE_RATE_LIMIT_DEFAULTS.auth.burst },
      conn: EDGE_CONN_LIMIT_DEFAULT,
    });
  });

  it('reads the per-address connection limit', () => {
    expect(edgeRateLimitsFromEnv({ EDGE_CONN_PER_IP: '2000' }).conn).toEqual({ perAddress: 2000 });
  });

  it('switches a zone off with "off"', () => {
    expect(edgeRateLimitsFromEnv({ EDGE_RATE_PER_IP: 'off' }).api).toBe(false);
    expect(edgeRateLimitsFromEnv({ EDGE_AUTH_RATE_PER_IP: 'OFF' })).toEqual({
      api: EDGE_RATE_LIMIT_DEFAULTS.api,
      auth: false,
      conn: EDGE_CONN_LIMIT_DEFAULT,
    });
    expect(edgeRateLimitsFromEnv({ EDGE_CONN_PER_IP: 'off' }).conn).toBe(false);
  });

  it.each([
    ['EDGE_RATE_PER_IP', '0'],
    ['EDGE_RATE_PER_IP', '10r/s'],
    ['EDGE_AUTH_RATE_PER_IP', '-1'],
    ['EDGE_BURST_PER_IP', '1.5'],
    ['EDGE_AUTH_BURST_PER_IP', 'off'],
    ['EDGE_CONN_PER_IP', '0'],
    ['EDGE_CONN_PER_IP', '100/s'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => edgeRateLimitsFromEnv({ [name]: value })).toThrow(new RegExp(`^${name} must be`));
  });
});
