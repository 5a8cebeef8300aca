import {
  compressionLines,
  EDGE_LB_ALGORITHMS,
  edgeCacheFromEnv,
  edgeCompressionFromEnv,
  edgeLbFromEnv,
  edgeTlsFromEnv,
  lbDirective,
  tlsLines,
} from './edge-features';
import { type LocalEdgeOptions, renderNginxConfig } from './nginx-config';
import { buildTopology } from './topology';

describe('edge switches from the environment', () => {
  it('reads EDGE_LB, defaulting to least_conn and naming the choices on a bad value', () => {
    expect(edgeLbFromEnv({})).toBe('least_conn');
    for (const lb of EDGE_LB_ALGORITHMS) {
      expect(edgeLbFromEnv({ EDGE_LB: ` ${lb} ` })).toBe(lb);
    }
    expect(() => edgeLbFromEnv({ EDGE_LB: 'random' })).toThrow(
      'EDGE_LB must be one of least_conn, round_robin, ip_hash, hash_user, got "random"',
    );
  });

  it('reads EDGE_CACHE (off by default) and EDGE_COMPRESSION (gzip by default)', () => {
    expect(edgeCacheFromEnv({})).toBe('off');
    expect(edgeCacheFromEnv({ EDGE_CACHE: 'ON' })).toBe('on');
    expect(edgeCacheFromEnv({ EDGE_CACHE: 'false' })).toBe('off');
    expect(() => edgeCacheFromEnv({ EDGE_CACHE: 'maybe' })).toThrow('EDGE_CACHE must be on or off');
    expect(edgeCompressionFromEnv({})).toBe('gzip');
    expect(edgeCompressionFromEnv({ EDGE_COMPRESSION: 'brotli' })).toBe('brotli');
    expect(() => edgeCompressionFromEnv({ EDGE_COMPRESSION: 'zstd' })).toThrow(
      'EDGE_COMPRESSION must be gzip, brotli or off',
    );
  });
});

describe('the local edge with its switches', () => {
  const t = buildTopology({ profile: 'test', root: '/repo' });
  const render = (options: Omit<LocalEdgeOptions, 'sharedDir'>): string =>
    renderNginxConfig(t, { sharedDir: '/repo/infra/nginx/conf.d', ...options });

  it('puts the algorithm in every pool', () => {
    for (const lb of EDGE_LB_ALGORITHMS) {
      const pools = render({ lb }).split('upstream ').slice(1);
      expect(pools).toHaveLength(4);
      for (const pool of pools) {
        const directive = lbDirective(lb);
        if (directive) {
          expect(pool).toContain(`    ${directive}\n`);
        } else {
          expect(pool).not.toMatch(/least_conn|ip_hash|hash /);
        }
      }
    }
  });

  it('includes the edge cache switch file and keeps the cache in the stack directory', () => {
    expect(render({})).toContain('include /repo/infra/nginx/conf.d/edge-cache-off.conf;');
    const on = render({ edgeCache: 'on' });
    expect(on).toContain('include /repo/infra/nginx/conf.d/edge-cache-on.conf;');
    expect(on).toContain(
      `proxy_cache_path ${t.nginx.dir}/cache levels=1:2 keys_zone=murmur_edge:10m`,
    );
  });

  it('loads the brotli module only for EDGE_COMPRESSION=brotli', () => {
    expect(render({})).not.toContain('load_module');
    const br = render({ compression: 'brotli' });
    expect(br.split('\n')[1]).toMatch(/^load_module \/usr\/lib\/nginx\/modules\/ngx_http_brotli/);
    expect(br).toContain('  brotli on;');
    expect(render({ compression: 'off' })).toContain('  gzip off;');
    expect(compressionLines('gzip')).toContain('gzip_min_length 1024;');
  });
});

describe('the TLS listener', () => {
  it('spells HTTP/2 as the NGINX version needs, with session resumption and TLS 1.2+ only', () => {
    const tls = { listen: '8443', certificate: '/c', key: '/k' };
    expect(tlsLines({ ...tls, http2: 'directive' }).slice(0, 2)).toEqual([
      'listen 8443 ssl reuseport;',
      'http2 on;',
    ]);
    const old = tlsLines({ ...tls, http2: 'listen' });
    expect(old[0]).toBe('listen 8443 ssl http2 reuseport;');
    expect(old).not.toContain('http2 on;');
    expect(old).toEqual(
      expect.arrayContaining([
        'ssl_protocols TLSv1.2 TLSv1.3;',
        'ssl_session_cache shared:murmur_tls:10m;',
      ]),
    );
  });

  it('reads EDGE_TLS (off by default) and puts the local listener on the topology port', () => {
    expect(edgeTlsFromEnv({})).toBe(false);
    expect(edgeTlsFromEnv({ EDGE_TLS: 'on' })).toBe(true);
    expect(() => edgeTlsFromEnv({ EDGE_TLS: 'yes please' })).toThrow('EDGE_TLS must be on or off');
    const t = buildTopology({ profile: 'dev', root: '/repo' });
    expect(t.nginx.tlsPort).toBe(8443);
    const conf = renderNginxConfig(t, {
      sharedDir: '/repo/infra/nginx/conf.d',
      tls: { certificate: '/s/tls/localhost.crt', key: '/s/tls/localhost.key' },
    });
    expect(conf).toContain('    listen 127.0.0.1:8443 ssl http2 reuseport;\n');
    expect(conf).toContain('    ssl_certificate /s/tls/localhost.crt;\n');
  });
});
