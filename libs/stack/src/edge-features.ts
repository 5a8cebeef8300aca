/**
 * The edge's switchable patterns, the same in every environment: the load-balancing algorithm of
 * the upstream pools (`EDGE_LB`) and the edge cache for anonymous public reads (`EDGE_CACHE`).
 * nginx-config.ts puts the lines these return into the generated main file.
 */

/** A Helm template action (`{{ … }}`) the chart's `tpl` replaces, for values chosen at install. */
export type EdgeTemplate = `{{${string}}}`;

/**
 * How a pool picks a server for a request:
 * - `least_conn`: the server with the fewest requests in flight (the default: services' request
 *   costs differ by route, and a slow process gets fewer requests);
 * - `round_robin`: each server in turn, blind to load;
 * - `ip_hash`: by the client's address (/24 for IPv4): behind one proxy or NAT every user lands on
 *   one process;
 * - `hash_user`: consistent hashing (ketama) on the caller's key (`$murmur_user`: the session token
 *   as the client sent it, or the client address when anonymous, see murmur-http.conf), so each
 *   process's L1 sees one slice of the users, and a process that leaves moves only its own slice.
 */
export const EDGE_LB_ALGORITHMS = ['least_conn', 'round_robin', 'ip_hash', 'hash_user'] as const;
export type EdgeLb = (typeof EDGE_LB_ALGORITHMS)[number];
export const EDGE_LB_DEFAULT: EdgeLb = 'least_conn';

/** The directive an upstream block gets for an algorithm (round robin is NGINX's default: none). */
export function lbDirective(lb: EdgeLb): string | undefined {
  switch (lb) {
    case 'least_conn':
      return 'least_conn;';
    case 'round_robin':
      return undefined;
    case 'ip_hash':
      return 'ip_hash;';
    case 'hash_user':
      return 'hash $murmur_user consistent;';
  }
}

/** The edge cache switch; a template lets the chart pick `on`/`off` from its values. */
export type EdgeCacheSwitch = 'on' | 'off' | EdgeTemplate;

/** The shared server-level file the switch selects: `edge-cache-on.conf` or `edge-cache-off.conf`. */
export const edgeCacheFile = (value: 'on' | 'off' | EdgeTemplate): string =>
  `edge-cache-${value}.conf`;

/** The cache zone every environment declares (the switch file uses it when on). */
export const EDGE_CACHE_ZONE = 'murmur_edge';

/**
 * The `proxy_cache_path` line. Keys: 10 MB holds about 80,000 entries; bodies are small JSON
 * answers (a page of posts is a few kB), bounded at 128 MB on disk (the page cache keeps the hot
 * ones in memory; in Kubernetes it shares the gateway's 256 Mi /tmp emptyDir). `inactive=10m` keeps an entry that long after its last use, well past its TTL:
 * that is the window in which the edge can serve it stale while the service is down.
 */
export function edgeCachePath(dir: string): string {
  return (
    `proxy_cache_path ${dir} levels=1:2 keys_zone=${EDGE_CACHE_ZONE}:10m max_size=128m ` +
    'inactive=10m use_temp_path=off;'
  );
}

/** The switch from the environment, as the local stack reads it: `on` or `off` (default). */
export function edgeCacheFromEnv(env: NodeJS.ProcessEnv): 'on' | 'off' {
  const raw = env.EDGE_CACHE?.trim().toLowerCase() ?? '';
  if (raw === '' || raw === 'off' || raw === 'false' || raw === '0') {
    return 'off';
  }
  if (raw === 'on' || raw === 'true' || raw === '1') {
    return 'on';
  }
  throw new Error(`EDGE_CACHE must be on or off, got "${env.EDGE_CACHE}"`);
}

/** The algorithm from the environment (`EDGE_LB`), the default when unset. */
export function edgeLbFromEnv(env: NodeJS.ProcessEnv): EdgeLb {
  const raw = env.EDGE_LB?.trim() ?? '';
  if (raw === '') {
    return EDGE_LB_DEFAULT;
  }
  const lb = EDGE_LB_ALGORITHMS.find((a) => a === raw);
  if (!lb) {
    throw new Error(`EDGE_LB must be one of ${EDGE_LB_ALGORITHMS.join(', ')}, got "${raw}"`);
  }
  return lb;
}

/**
 * Response compression at the edge: gzip (every NGINX), brotli where the module is loaded
 * (Debian's libnginx-mod-http-brotli-filter; the official images do not ship it), or none.
 * Only JSON answers above a threshold: below about 1 kB the headers and the CPU cost more than
 * the bytes saved.
 */
export type EdgeCompression = 'gzip' | 'brotli' | 'off';
export const EDGE_COMPRESSION_MIN_BYTES = 1024;
const COMPRESSED_TYPES = 'application/json application/problem+json';

/** Debian's path of the brotli filter module (`load_module`, main context). */
export const BROTLI_MODULE = '/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so';

/** http-level lines for a compression choice; brotli also keeps gzip for clients without br. */
export function compressionLines(mode: EdgeCompression): string[] {
  if (mode === 'off') {
    return ['gzip off;'];
  }
  // Level 1: most of the ratio on repetitive JSON for a fraction of the CPU of the default 6;
  // the edge shares its cores with the services here.
  const gzip = [
    'gzip on;',
    'gzip_comp_level 1;',
    `gzip_min_length ${EDGE_COMPRESSION_MIN_BYTES};`,
    // Proxied answers are compressed whatever their caching headers say.
    'gzip_proxied any;',
    `gzip_types ${COMPRESSED_TYPES};`,
    'gzip_vary on;',
  ];
  if (mode === 'gzip') {
    return gzip;
  }
  return [
    ...gzip,
    'brotli on;',
    'brotli_comp_level 1;',
    `brotli_min_length ${EDGE_COMPRESSION_MIN_BYTES};`,
    `brotli_types ${COMPRESSED_TYPES};`,
  ];
}

/** `EDGE_COMPRESSION` (gzip, brotli, off); absent: gzip. */
export function edgeCompressionFromEnv(env: NodeJS.ProcessEnv): EdgeCompression {
  const raw = env.EDGE_COMPRESSION?.trim().toLowerCase() ?? '';
  if (raw === '') {
    return 'gzip';
  }
  if (raw === 'gzip' || raw === 'brotli' || raw === 'off') {
    return raw;
  }
  throw new Error(`EDGE_COMPRESSION must be gzip, brotli or off, got "${env.EDGE_COMPRESSION}"`);
}

/**
 * HTTPS with HTTP/2 on the edge, next to the plain HTTP listener (which the probes and the
 * in-cluster callers keep using). HTTP/2 needs TLS in every browser, so it comes with it.
 */
export interface EdgeTls {
  /** `listen` argument, e.g. `127.0.0.1:8443` or `8443` */
  listen: string;
  certificate: string;
  key: string;
  /**
   * How this NGINX spells HTTP/2: `http2 on;` since 1.25.1 (the images, 1.29), the `http2`
   * parameter of `listen` before (Debian's 1.22, the local stack).
   */
  http2: 'directive' | 'listen';
}

/** server-level lines of the TLS listener. */
export function tlsLines(tls: EdgeTls): string[] {
  const listen =
    tls.http2 === 'listen'
      ? `listen ${tls.listen} ssl http2 reuseport;`
      : `listen ${tls.listen} ssl reuseport;`;
  return [
    listen,
    ...(tls.http2 === 'directive' ? ['http2 on;'] : []),
    `ssl_certificate ${tls.certificate};`,
    `ssl_certificate_key ${tls.key};`,
    'ssl_protocols TLSv1.2 TLSv1.3;',
    // Resumed sessions skip the full handshake: most of TLS's cost for returning clients.
    'ssl_session_cache shared:murmur_tls:10m;',
    'ssl_session_timeout 1h;',
    'ssl_session_tickets off;',
  ];
}

/** `EDGE_TLS` (on/off, default off): the local stack's HTTPS + HTTP/2 listener. */
export function edgeTlsFromEnv(env: NodeJS.ProcessEnv): boolean {
  const raw = env.EDGE_TLS?.trim().toLowerCase() ?? '';
  if (raw === '' || raw === 'off' || raw === 'false' || raw === '0') {
    return false;
  }
  if (raw === 'on' || raw === 'true' || raw === '1') {
    return true;
  }
  throw new Error(`EDGE_TLS must be on or off, got "${env.EDGE_TLS}"`);
}
