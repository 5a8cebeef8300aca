import { isIpOrCidr } from '@murmur/config';
import path from 'node:path';
import {
  BROTLI_MODULE,
  compressionLines,
  edgeCacheFile,
  edgeCachePath,
  lbDirective,
  tlsLines,
  type EdgeCacheSwitch,
  type EdgeCompression,
  type EdgeLb,
  type EdgeTemplate,
  type EdgeTls,
} from './edge-features';
import type { ServiceProcess, Topology } from './topology';

/**
 * The edge config has one shape everywhere: the shared files in infra/nginx/conf.d (http settings,
 * routes, problem+json errors) plus a small generated main file holding what differs per
 * environment — where NGINX keeps its state, what it listens on and which servers are in each pool.
 */

export type PoolName = ServiceProcess['service'];

/** The upstream pools the shared routes expect, as `<name>_pool`. */
export const POOLS: readonly PoolName[] = ['user', 'post', 'feed', 'leaderboard'];

export interface EdgePool {
  name: PoolName;
  /** `host:port` of every server of the pool */
  servers: string[];
}

export interface EdgeConfig {
  /** a comment line naming where the file came from */
  origin: string;
  /** `listen` argument: `127.0.0.1:8080` locally, `8080` in a container */
  listen: string;
  /** absolute path of infra/nginx/conf.d as this NGINX sees it */
  sharedDir: string;
  pools: EdgePool[];
  /**
   * Keep the pid file and the temp paths here (a directory this user can write), so NGINX runs
   * without root. Absent: the package defaults (containers).
   */
  stateDir?: string;
  /** `/dev/stdout` in containers */
  accessLog: string;
  /** buffer writes to a file log (default; tests that read the log at once turn it off) */
  accessLogBuffered?: boolean;
  /** `stderr` keeps errors with the process's own output */
  errorLog: string;
  /** `user` directive: only when the master runs as root (workers drop to this user) */
  workerUser?: string;
  workerProcesses?: number | 'auto';
  /**
   * Re-resolve pool host names through this DNS server (Kubernetes headless Services, so that
   * `least_conn` sees pods as they come and go). Needs NGINX 1.27.3+ (`server … resolve`).
   */
  resolver?: string;
  /** per pool, idle keepalive connections kept open to its servers (per worker) */
  keepalive?: number;
  maxFails?: number;
  failTimeout?: string;
  /**
   * Most requests in flight to one server at once (`max_conns`, shared by all workers through the
   * pool's zone); absent: EDGE_MAX_CONNS_DEFAULT. Beyond it the edge answers 503 itself.
   */
  maxConns?: number;
  /** the edge's per-address request and connection limits; absent: EDGE_RATE_LIMIT_DEFAULTS */
  rateLimits?: EdgeRateLimits;
  /**
   * The addresses of proxies in front of this NGINX (an ingress controller, a cloud L7 load
   * balancer), as IPs or CIDRs: from a peer in them, the client address is taken from
   * X-Forwarded-For (`set_real_ip_from`; murmur-http.conf reads the header recursively). Absent
   * or empty: the peer is the client (local, compose). A template renders its own lines (the
   * chart's `gateway.trustedProxies`).
   */
  trustedProxies?: readonly string[] | EdgeTemplate;
  /**
   * Shorter client timeouts than murmur-http.conf's, set at server level: for tests that watch a
   * timeout fire within seconds. Production keeps the shared file's.
   */
  timeouts?: Partial<EdgeTimeouts>;
  /**
   * Every pool's algorithm; absent: least_conn. A template must produce the directive line itself
   * (the chart's `murmur.gateway.lb` helper).
   */
  lb?: EdgeLb | EdgeTemplate;
  /**
   * The edge cache switch: which shared file (edge-cache-on/off.conf) the server includes, or
   * `{ include }`, a path the environment mounts one of them at (compose picks it by EDGE_CACHE).
   * Absent: off.
   */
  edgeCache?: EdgeCacheSwitch | { include: string };
  /** where the edge cache keeps its entries; absent: `<stateDir>/cache` or /var/cache/nginx/murmur */
  cacheDir?: string;
  /** absent: gzip */
  compression?: EdgeCompression;
  /** `load_module` paths (main context), e.g. the brotli filter */
  modules?: string[];
  /**
   * An HTTPS + HTTP/2 listener besides `listen`; with `when`, a Helm condition (`{{ if … }}`)
   * around its lines, so the chart turns it on from its values.
   */
  tls?: EdgeTls & { when?: EdgeTemplate };
}

/** A number, or a template action (`{{ … }}`) that Helm's `tpl` replaces with a value. */
export type EdgeRateValue = number | `{{${string}}}`;

/** A `limit_req` zone: a leaky bucket per client address, refusing beyond it (nodelay). */
export interface EdgeRateLimit {
  /** sustained requests per second per client address */
  rate: EdgeRateValue;
  /** requests above the rate admitted at once before refusing (not queued: `nodelay`) */
  burst: EdgeRateValue;
}

/**
 * A `limit_conn` zone: how many requests one client address may have in progress at once; the
 * next is refused with 429 (problem-json.conf). NGINX counts a connection once its request header
 * has been read, so this bounds slow bodies, slow readers and pile-ups, not slow headers: those
 * are cut by `client_header_timeout` (murmur-http.conf).
 */
export interface EdgeConnLimit {
  perAddress: EdgeRateValue;
}

/**
 * The edge's coarse per-address flood guard. The exact limits (per IP and per user, with
 * RateLimit-* headers) are the services' (libs/rate-limit); these sit well above them, so a
 * normal client only ever meets the services' limits.
 */
export interface EdgeRateLimits {
  /** every request to a proxied route (`/api/…`); `false` leaves the zone out */
  api: EdgeRateLimit | false;
  /** log-in and sign-up: `POST /api/sessions` and `POST /api/users`; `false` leaves it out */
  auth: EdgeRateLimit | false;
  /** requests in progress per address; `false` leaves it out, absent: EDGE_CONN_LIMIT_DEFAULT */
  conn?: EdgeConnLimit | false;
}

/**
 * Above what the project's own traffic from one address has in flight at once: the e2e suite's
 * 500 concurrent reads of one cold post (test/e2e/cache-stampede.e2e-spec.ts) and the bench's and
 * k6's 50–200 connections. A slow body held open costs the edge its 64 KiB buffer, so one address
 * can pin at most 32 MiB of a gateway this way.
 */
export const EDGE_CONN_LIMIT_DEFAULT = { perAddress: 512 } as const satisfies EdgeConnLimit;

/**
 * Above what the project's own traffic from one address reaches: the benchmark's closed loop
 * (≈ 9,000 req/s through a service, bench/results/2026-11-23-vm.md), the e2e suite's bursts
 * (1,000 concurrent writes; 40 concurrent sign-ups, each with a log-in) and k6's sign-up journey
 * at its stress peak (≈ 60 auth req/s). The same numbers in compose, deploy/k8s and the chart.
 */
export const EDGE_RATE_LIMIT_DEFAULTS = {
  api: { rate: 10_000, burst: 5_000 },
  auth: { rate: 100, burst: 200 },
  conn: EDGE_CONN_LIMIT_DEFAULT,
} as const satisfies EdgeRateLimits;

/** The `limit_req_zone`s the generated file declares; `murmur-http.conf` defines their keys. */
export const EDGE_RATE_ZONES = {
  api: { zone: 'murmur_api', key: '$binary_remote_addr' },
  auth: { zone: 'murmur_auth', key: '$murmur_auth_limit_key' },
} as const;

/** The `limit_conn_zone` of the per-address connection limit. */
export const EDGE_CONN_ZONE = { zone: 'murmur_conn', key: '$binary_remote_addr' } as const;

/** Client-side timeouts of the edge (NGINX time values: `10s`, `500ms`). */
export interface EdgeTimeouts {
  /** `client_header_timeout`: the whole request line and header, from the connection's start */
  header: string;
  /** `client_body_timeout`: between two reads of the body */
  body: string;
  /** `send_timeout`: between two writes of the answer */
  send: string;
  /** `keepalive_timeout`: how long an idle connection stays open between requests */
  keepalive: string;
}

const TIMEOUT_DIRECTIVES = {
  header: 'client_header_timeout',
  body: 'client_body_timeout',
  send: 'send_timeout',
  keepalive: 'keepalive_timeout',
} as const satisfies Record<keyof EdgeTimeouts, string>;

/** server-level overrides of murmur-http.conf's client timeouts */
export function timeoutLines(timeouts: Partial<EdgeTimeouts>): string[] {
  return (Object.keys(TIMEOUT_DIRECTIVES) as Array<keyof EdgeTimeouts>).flatMap((name) => {
    const value = timeouts[name];
    if (value === undefined) {
      return [];
    }
    if (!/^\d+(ms|s|m)?$/.test(value)) {
      throw new Error(
        `the edge's ${name} timeout must be an NGINX time (10s, 500ms), got "${value}"`,
      );
    }
    return [`${TIMEOUT_DIRECTIVES[name]} ${value};`];
  });
}

/** `set_real_ip_from` lines (http level) for the proxies in front of the edge. */
export function trustedProxyLines(proxies: readonly string[]): string[] {
  return proxies.map((range) => {
    if (!isIpOrCidr(range)) {
      throw new Error(
        `a trusted proxy must be an IP address or CIDR (10.244.0.0/16), got "${range}"`,
      );
    }
    return `set_real_ip_from ${range};`;
  });
}

const rateValue = (v: EdgeRateValue, what: string, min: number): string => {
  if (typeof v === 'number' && !(Number.isSafeInteger(v) && v >= min)) {
    throw new Error(`${what} must be a whole number ≥ ${min} (got ${v})`);
  }
  return String(v);
};

/** `limit_req_zone` lines (http level) and `limit_req` lines (server level) of the edge. */
export function renderRateLimits(limits: EdgeRateLimits): { zones: string[]; apply: string[] } {
  const zones: string[] = [];
  const apply: string[] = [];
  for (const name of ['api', 'auth'] as const) {
    const limit = limits[name];
    if (limit === false) {
      continue;
    }
    const { zone, key } = EDGE_RATE_ZONES[name];
    const rate = rateValue(limit.rate, `the ${name} edge rate`, 1);
    const burst = rateValue(limit.burst, `the ${name} edge burst`, 0);
    // 10 MB keeps about 160,000 addresses (16,000 states per MB); when it is full NGINX drops the
    // least recently used one.
    zones.push(`limit_req_zone ${key} zone=${zone}:10m rate=${rate}r/s;`);
    apply.push(`limit_req zone=${zone} burst=${burst} nodelay;`);
  }
  const conn = limits.conn ?? EDGE_CONN_LIMIT_DEFAULT;
  if (conn !== false) {
    const { zone, key } = EDGE_CONN_ZONE;
    // 10 MB: about 160,000 addresses with a request in progress at once.
    zones.push(`limit_conn_zone ${key} zone=${zone}:10m;`);
    apply.push(`limit_conn ${zone} ${rateValue(conn.perAddress, 'the edge connection limit', 1)};`);
  }
  return { zones, apply };
}

/** Variables that set the local stack's edge limits (`npm start`, `stack:up`, the test stack). */
export const EDGE_RATE_ENV = {
  api: { rate: 'EDGE_RATE_PER_IP', burst: 'EDGE_BURST_PER_IP' },
  auth: { rate: 'EDGE_AUTH_RATE_PER_IP', burst: 'EDGE_AUTH_BURST_PER_IP' },
  conn: { perAddress: 'EDGE_CONN_PER_IP' },
} as const;

/**
 * The edge limits from the environment, defaults for what is unset. A rate (or the connection
 * limit) of `off` leaves that zone out (e.g. a benchmark that measures past the API zone). A bad
 * value fails the start with the variable's name.
 */
export function edgeRateLimitsFromEnv(env: NodeJS.ProcessEnv): EdgeRateLimits {
  const whole = (name: string, fallback: number, min: number, off: boolean): number => {
    const raw = env[name]?.trim() ?? '';
    if (raw === '') {
      return fallback;
    }
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min) {
      throw new Error(
        `${name} must be a whole number ≥ ${min}${off ? ' or "off"' : ''}, got "${raw}"`,
      );
    }
    return n;
  };
  const zone = (name: 'api' | 'auth'): EdgeRateLimit | false => {
    const vars = EDGE_RATE_ENV[name];
    const defaults = EDGE_RATE_LIMIT_DEFAULTS[name];
    if (env[vars.rate]?.trim().toLowerCase() === 'off') {
      return false;
    }
    return {
      rate: whole(vars.rate, defaults.rate, 1, true),
      burst: whole(vars.burst, defaults.burst, 0, false),
    };
  };
  const connVar = EDGE_RATE_ENV.conn.perAddress;
  const conn: EdgeConnLimit | false =
    env[connVar]?.trim().toLowerCase() === 'off'
      ? false
      : { perAddress: whole(connVar, EDGE_CONN_LIMIT_DEFAULT.perAddress, 1, true) };
  return { api: zone('api'), auth: zone('auth'), conn };
}

/** Temp directories NGINX may write request bodies and proxied responses to. */
export const NGINX_TEMP_DIRS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'] as const;

/**
 * Without a bound NGINX opened ever more connections to a saturated process until its accept
 * queue (Node's backlog: 511) overflowed, connects timed out, and `max_fails` ejected the whole
 * pool (502 "no live upstreams" at 3x the knee, issue 10). Below the backlog, every request NGINX
 * sends is accepted and reaches the service's own queue-time shedding; above a burst the pool can
 * absorb (64 refused half of 500 concurrent cheap reads that the services serve in milliseconds).
 */
export const EDGE_MAX_CONNS_DEFAULT = 256;

function upstreamLb(lb: EdgeConfig['lb']): string[] {
  if (lb !== undefined && lb.startsWith('{{')) {
    return [`    ${lb}`];
  }
  const directive = lbDirective((lb as EdgeLb | undefined) ?? 'least_conn');
  return directive ? [`    ${directive}`] : [];
}

function renderTls(tls: EdgeConfig['tls']): string[] {
  if (!tls) {
    return [];
  }
  const lines = tlsLines(tls).map((l) => `    ${l}`);
  return tls.when ? [`    ${tls.when}`, ...lines, '    {{- end }}'] : lines;
}

/** Where the edge cache keeps its entries (the local stack hands it to the worker user). */
export function edgeCacheDir(edge: Pick<EdgeConfig, 'cacheDir' | 'stateDir'>): string {
  if (edge.cacheDir) {
    return edge.cacheDir;
  }
  return edge.stateDir ? path.join(edge.stateDir, 'cache') : '/var/cache/nginx/murmur';
}

function edgeCacheInclude(edge: EdgeConfig, shared: (file: string) => string): string {
  const sw = edge.edgeCache ?? 'off';
  return typeof sw === 'object' ? sw.include : shared(edgeCacheFile(sw));
}

export function renderUpstream(pool: EdgePool, edge: EdgeConfig): string {
  if (pool.servers.length === 0) {
    throw new Error(`upstream pool ${pool.name} has no servers`);
  }
  const resolve = edge.resolver ? ' resolve' : '';
  const maxConns = edge.maxConns ?? EDGE_MAX_CONNS_DEFAULT;
  if (!(Number.isSafeInteger(maxConns) && maxConns >= 1)) {
    throw new Error(`the edge's max_conns must be a whole number ≥ 1 (got ${maxConns})`);
  }
  const checks = `max_fails=${edge.maxFails ?? 3} fail_timeout=${edge.failTimeout ?? '10s'} max_conns=${maxConns}`;
  const lines = [
    `  upstream ${pool.name}_pool {`,
    // A shared zone lets every worker see the same connection counts (a fairer least_conn and
    // shared failure marks); `resolve` requires it.
    `    zone ${pool.name}_pool 64k;`,
    ...upstreamLb(edge.lb),
    ...pool.servers.map((s) => `    server ${s}${resolve} ${checks};`),
    `    keepalive ${edge.keepalive ?? 32};`,
    '    keepalive_timeout 60s;',
    '  }',
  ];
  return lines.join('\n');
}

export function renderEdgeConfig(edge: EdgeConfig): string {
  const missing = POOLS.filter((name) => !edge.pools.some((p) => p.name === name));
  if (missing.length > 0) {
    throw new Error(`the routes need upstream pools for: ${missing.join(', ')}`);
  }
  const shared = (file: string): string => path.posix.join(edge.sharedDir, file);
  const main: string[] = [`# ${edge.origin}`];
  for (const module of edge.modules ?? []) {
    main.push(`load_module ${module};`);
  }
  if (edge.workerUser) {
    main.push(`user ${edge.workerUser};`);
  }
  main.push(`worker_processes ${edge.workerProcesses ?? 'auto'};`);
  if (edge.stateDir) {
    main.push(`pid ${path.join(edge.stateDir, 'nginx.pid')};`);
  }
  main.push(`error_log ${edge.errorLog} warn;`, '', 'events {', '  worker_connections 4096;', '}');

  const http: string[] = ['  default_type application/octet-stream;'];
  if (edge.stateDir) {
    const dir = edge.stateDir;
    for (const name of NGINX_TEMP_DIRS) {
      http.push(`  ${name}_temp_path ${path.join(dir, 'tmp', name)};`);
    }
  }
  if (edge.resolver) {
    http.push(`  resolver ${edge.resolver} valid=5s ipv6=off;`);
  }
  if (typeof edge.trustedProxies === 'string') {
    // a template renders its own comment and lines (or nothing)
    http.push(`  ${edge.trustedProxies}`);
  } else if (edge.trustedProxies?.length) {
    http.push(
      '  # Proxies in front of the edge: from them, the client address is read from X-Forwarded-For.',
      ...trustedProxyLines(edge.trustedProxies).map((l) => `  ${l}`),
    );
  }
  const limits = renderRateLimits(edge.rateLimits ?? EDGE_RATE_LIMIT_DEFAULTS);
  http.push(
    `  include ${shared('murmur-http.conf')};`,
    // Buffered: a log write per request would cost more than the request at benchmark rates.
    `  access_log ${edge.accessLog} murmur_json${edge.accessLog.startsWith('/dev/') || edge.accessLogBuffered === false ? '' : ' buffer=64k flush=1s'};`,
    '',
    '  # JSON answers above the size threshold are compressed for clients that accept it.',
    ...compressionLines(edge.compression ?? 'gzip').map((l) => `  ${l}`),
    '',
    '  # The edge cache zone; edge-cache-on.conf uses it, edge-cache-off.conf leaves it empty.',
    `  ${edgeCachePath(edgeCacheDir(edge))}`,
  );
  if (limits.zones.length > 0) {
    http.push(
      '',
      "  # Coarse per-address flood guard; the exact limits are the services' (see murmur-http.conf).",
      ...limits.zones.map((z) => `  ${z}`),
    );
  }
  http.push(
    '',
    edge.pools.map((p) => renderUpstream(p, edge)).join('\n\n'),
    '',
    '  server {',
    `    listen ${edge.listen} reuseport;`,
    ...renderTls(edge.tls),
    // Server level, so every location inherits them; a location with its own limit_req would not.
    // Locations that only `return` (health, 404, error pages) answer before limit_req runs.
    ...limits.apply.map((a) => `    ${a}`),
    ...timeoutLines(edge.timeouts ?? {}).map((l) => `    ${l}`),
    `    include ${shared('murmur-routes.conf')};`,
    `    include ${edgeCacheInclude(edge, shared)};`,
    `    include ${shared('problem-json.conf')};`,
    '  }',
  );
  return `${main.join('\n')}\n\nhttp {\n${http.join('\n')}\n}\n`;
}

export interface LocalEdgeOptions {
  /** absolute path of infra/nginx/conf.d */
  sharedDir: string;
  /** run workers as this user (only when the master runs as root) */
  workerUser?: string;
  /** absent: EDGE_RATE_LIMIT_DEFAULTS (the supervisor passes edgeRateLimitsFromEnv) */
  rateLimits?: EdgeRateLimits;
  /** `max_conns` per server; absent: EDGE_MAX_CONNS_DEFAULT (the supervisor reads EDGE_MAX_CONNS) */
  maxConns?: number;
  /** EDGE_LB */
  lb?: EdgeLb;
  /** EDGE_CACHE */
  edgeCache?: 'on' | 'off';
  /** EDGE_COMPRESSION (brotli needs the module: the supervisor checks) */
  compression?: EdgeCompression;
  /** EDGE_TLS: the certificate and key the supervisor made (self-signed, for localhost) */
  tls?: { certificate: string; key: string };
}

/** `EDGE_MAX_CONNS` from the environment (a whole number ≥ 1), or undefined for the default. */
export function edgeMaxConnsFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.EDGE_MAX_CONNS?.trim() ?? '';
  if (raw === '') {
    return undefined;
  }
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(`EDGE_MAX_CONNS must be a whole number ≥ 1, got "${raw}"`);
  }
  return n;
}

/** The edge of the local stack: every `main` process of a service is a server of its pool. */
export function localEdgeConfig(t: Topology, options: LocalEdgeOptions): EdgeConfig {
  return {
    origin: `Generated by libs/stack for the local "${t.profile}" stack. Do not edit: it is rewritten on every start.`,
    listen: `127.0.0.1:${t.nginx.port}`,
    sharedDir: options.sharedDir,
    stateDir: t.nginx.dir,
    accessLog: path.join(t.nginx.dir, 'access.log'),
    errorLog: 'stderr',
    workerUser: options.workerUser,
    rateLimits: options.rateLimits,
    maxConns: options.maxConns,
    lb: options.lb,
    edgeCache: options.edgeCache,
    compression: options.compression,
    modules: options.compression === 'brotli' ? [BROTLI_MODULE] : undefined,
    tls: options.tls && {
      listen: `127.0.0.1:${t.nginx.tlsPort}`,
      ...options.tls,
      // Debian's NGINX is 1.22: HTTP/2 is a parameter of `listen` there.
      http2: 'listen',
    },
    pools: POOLS.map((name) => ({
      name,
      servers: t.services
        .filter((s) => s.service === name && s.entry === 'main')
        .map((s) => `127.0.0.1:${s.port}`),
    })),
  };
}

export function renderNginxConfig(t: Topology, options: LocalEdgeOptions): string {
  return renderEdgeConfig(localEdgeConfig(t, options));
}
