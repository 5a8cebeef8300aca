import path from 'node:path';

/**
 * The local stack as data: every component, its port and its data directory, for one profile.
 * `dev` is what `npm start` runs; `test` is the same shape on private ports for the test suite,
 * so that tests never touch a developer's running stack.
 */
/** dev: `npm start`; test: the suite's stack; probe: the suite's tests of the supervisor itself. */
export type StackProfile = 'dev' | 'test' | 'probe';

export interface PostgresNode {
  kind: 'postgres';
  name: string;
  cluster: string;
  role: 'primary' | 'replica';
  port: number;
  dataDir: string;
  /** for replicas: the primary's port to stream from */
  primaryPort?: number;
}

export interface RedisNode {
  kind: 'redis';
  name: string;
  port: number;
  dataDir: string;
  /** `queue` holds data that is not a cache (AOF, noeviction); `cache` is the L2 cache (LRU, no AOF) */
  purpose: 'queue' | 'cache';
}

/** A node of the Memcached L2 tier (`CACHE_L2_BACKEND=memcached`): a pure cache, no data dir. */
export interface MemcachedNode {
  kind: 'memcached';
  name: string;
  port: number;
  /** where it runs (its cwd): how `down` recognises a stray one */
  dir: string;
  memoryMb: number;
}

export interface ServiceProcess {
  kind: 'service';
  name: string;
  service: 'user' | 'post' | 'feed' | 'leaderboard';
  entry: 'main' | 'worker';
  port: number;
  grpcPort?: number;
}

export interface NginxNode {
  kind: 'nginx';
  name: 'nginx';
  port: number;
  /** the HTTPS (+ HTTP/2) listener's port, used when EDGE_TLS=on */
  tlsPort: number;
  dir: string;
}

export interface Topology {
  profile: StackProfile;
  root: string;
  stateDir: string;
  logDir: string;
  postgres: PostgresNode[];
  redis: RedisNode[];
  memcached: MemcachedNode[];
  services: ServiceProcess[];
  nginx: NginxNode;
  database: { name: string; user: string; shardDatabase: string };
  physicalShards: number;
}

export interface TopologyOptions {
  profile?: StackProfile;
  root?: string;
  nginxPort?: number;
  /** processes per HTTP service */
  replicasPerService?: number;
}

const OFFSET: Record<StackProfile, number> = { dev: 0, test: 10_000, probe: 5_000 };
const STATE_DIR: Record<StackProfile, string> = {
  dev: '.stack',
  test: '.stack-test',
  probe: '.stack-probe',
};

export function buildTopology(options: TopologyOptions = {}): Topology {
  const profile = options.profile ?? 'dev';
  const root = options.root ?? process.cwd();
  const off = OFFSET[profile];
  const stateDir = path.join(root, STATE_DIR[profile]);
  const pgDir = (name: string): string => path.join(stateDir, 'pg', name);
  const replicas = options.replicasPerService ?? 2;

  const postgres: PostgresNode[] = [];
  const addCluster = (cluster: string, basePort: number, replicaCount: number): void => {
    const primary = `pg-${cluster}-primary`;
    postgres.push({
      kind: 'postgres',
      name: primary,
      cluster,
      role: 'primary',
      port: basePort + off,
      dataDir: pgDir(primary),
    });
    for (let i = 1; i <= replicaCount; i++) {
      const name = `pg-${cluster}-replica-${i}`;
      postgres.push({
        kind: 'postgres',
        name,
        cluster,
        role: 'replica',
        port: basePort + i + off,
        dataDir: pgDir(name),
        primaryPort: basePort + off,
      });
    }
  };
  addCluster('main', 15432, 2);
  addCluster('shard-0', 15440, 1);
  addCluster('shard-1', 15450, 1);

  const redis: RedisNode[] = [
    {
      kind: 'redis',
      name: 'redis',
      port: 16379 + off,
      dataDir: path.join(stateDir, 'redis'),
      purpose: 'queue',
    },
    {
      kind: 'redis',
      name: 'redis-cache',
      port: 16380 + off,
      dataDir: path.join(stateDir, 'redis-cache'),
      purpose: 'cache',
    },
  ];

  // Three nodes, so that one lost is a third of the keys (the bench and the docs measure it).
  const memcached: MemcachedNode[] = [1, 2, 3].map((i) => ({
    kind: 'memcached',
    name: `memcached-${i}`,
    port: 16390 + i + off,
    dir: path.join(stateDir, `memcached-${i}`),
    memoryMb: 128,
  }));

  const services: ServiceProcess[] = [];
  const httpServices: Array<{ service: ServiceProcess['service']; base: number; grpc?: number }> = [
    { service: 'user', base: 3101 },
    { service: 'post', base: 3201, grpc: 3211 },
    { service: 'feed', base: 3301 },
    { service: 'leaderboard', base: 3401 },
  ];
  for (const s of httpServices) {
    for (let i = 0; i < replicas; i++) {
      services.push({
        kind: 'service',
        name: `${s.service}-${i + 1}`,
        service: s.service,
        entry: 'main',
        port: s.base + i + off,
        grpcPort: s.grpc === undefined ? undefined : s.grpc + i + off,
      });
    }
  }
  // BullMQ workers: each service that owns a queue has a worker.ts entry, run as one process here.
  services.push({
    kind: 'service',
    name: 'feed-worker',
    service: 'feed',
    entry: 'worker',
    port: 3501 + off,
  });
  services.push({
    kind: 'service',
    name: 'leaderboard-worker',
    service: 'leaderboard',
    entry: 'worker',
    port: 3502 + off,
  });
  services.push({
    kind: 'service',
    name: 'post-worker',
    service: 'post',
    entry: 'worker',
    port: 3503 + off,
  });

  return {
    profile,
    root,
    stateDir,
    logDir: path.join(stateDir, 'logs'),
    postgres,
    redis,
    memcached,
    services,
    nginx: {
      kind: 'nginx',
      name: 'nginx',
      port: options.nginxPort ?? 8080 + off,
      // HTTPS + HTTP/2 when EDGE_TLS=on: 8443 for the dev stack, as 8080 for HTTP.
      tlsPort: (options.nginxPort ?? 8080 + off) + 363,
      dir: path.join(stateDir, 'nginx'),
    },
    database: { name: 'murmur', user: 'murmur', shardDatabase: 'murmur_posts' },
    physicalShards: 2,
  };
}

const pgUrl = (t: Topology, port: number, db: string): string =>
  `postgres://${t.database.user}@127.0.0.1:${port}/${db}`;

/** The entry file of a service process, relative to the repo root (compiled output). */
export function serviceEntry(proc: ServiceProcess): string {
  return path.join('dist', 'services', proc.service, 'src', `${proc.entry}.js`);
}

export interface EnvOptions {
  otlpEndpoint?: string;
  extra?: Record<string, string>;
}

/** The environment a service process gets: the whole contract between the stack and a service. */
export function serviceEnv(
  t: Topology,
  proc: ServiceProcess,
  options: EnvOptions = {},
): Record<string, string> {
  const cluster = (name: string): PostgresNode[] => t.postgres.filter((n) => n.cluster === name);
  const main = cluster('main');
  const primaryOf = (nodes: PostgresNode[]): PostgresNode =>
    nodes.find((n) => n.role === 'primary') as PostgresNode;
  const shards = Array.from({ length: t.physicalShards }, (_, i) => {
    const nodes = cluster(`shard-${i}`);
    return {
      primary: pgUrl(t, primaryOf(nodes).port, t.database.shardDatabase),
      replicas: nodes
        .filter((n) => n.role === 'replica')
        .map((n) => pgUrl(t, n.port, t.database.shardDatabase)),
    };
  });
  const redisQueue = t.redis.find((r) => r.purpose === 'queue') as RedisNode;
  const redisCache = t.redis.find((r) => r.purpose === 'cache') as RedisNode;
  const postGrpc = t.services
    .filter((s) => s.service === 'post' && s.entry === 'main' && s.grpcPort !== undefined)
    .map((s) => `127.0.0.1:${s.grpcPort}`);
  const env: Record<string, string> = {
    NODE_ENV: t.profile === 'test' ? 'test' : 'development',
    SERVICE_NAME: proc.service,
    INSTANCE_NAME: proc.name,
    HOST: '127.0.0.1',
    PORT: String(proc.port),
    DATABASE_URL: pgUrl(t, primaryOf(main).port, t.database.name),
    DATABASE_REPLICA_URLS: main
      .filter((n) => n.role === 'replica')
      .map((n) => pgUrl(t, n.port, t.database.name))
      .join(','),
    SHARDS: JSON.stringify(shards),
    REDIS_URL: `redis://127.0.0.1:${redisQueue.port}`,
    CACHE_REDIS_URL: `redis://127.0.0.1:${redisCache.port}`,
    // Used only with CACHE_L2_BACKEND=memcached (a pattern switch; Redis is the default L2).
    MEMCACHED_SERVERS: t.memcached.map((m) => `127.0.0.1:${m.port}`).join(','),
    POST_GRPC_URL: `ipv4:${postGrpc.join(',')}`,
    LOG_LEVEL: t.profile === 'test' ? 'warn' : 'info',
    // The local stack serves plain HTTP, where a Secure cookie would never be sent back.
    COOKIE_SECURE: 'false',
    // The test suites sign up and log in hundreds of users from 127.0.0.1 (one client address);
    // the per-user write limit stays low enough for the test that 1,000 concurrent writes admit
    // exactly the limit. The per-caller limits have their own suite (test/e2e/security), on a
    // process of its own.
    ...(t.profile === 'test'
      ? {
          RATE_LIMIT_SIGNUP_PER_IP: '10000/60',
          RATE_LIMIT_LOGIN_PER_IP: '10000/60',
          RATE_LIMIT_PER_ADDRESS: '999999/1',
          RATE_LIMIT_PER_USER: '999999/1',
          RATE_LIMIT_WRITES_PER_USER: '200/60',
          // Likes are written through by default; the suites exercise the write-behind path
          // (test/e2e/likes.e2e-spec.ts), whose flushes need the post worker.
          WRITE_BEHIND_ENABLED: 'true',
        }
      : {}),
    OTEL_SERVICE_NAME:
      proc.entry === 'worker' ? `${proc.service}-worker` : `${proc.service}-service`,
  };
  if (proc.grpcPort !== undefined) {
    env.GRPC_PORT = String(proc.grpcPort);
  }
  if (options.otlpEndpoint) {
    env.OTEL_EXPORTER_OTLP_ENDPOINT = options.otlpEndpoint;
  }
  return { ...env, ...options.extra };
}
