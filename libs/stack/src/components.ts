import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BROTLI_MODULE, type EdgeCompression, type EdgeLb } from './edge-features';
import {
  edgeCacheDir,
  NGINX_TEMP_DIRS,
  renderNginxConfig,
  type EdgeRateLimits,
} from './nginx-config';
import {
  pgReady,
  type PgIdentity,
  postgresCommand,
  removeStalePidFile,
  writeNodeSettings,
} from './postgres';
import { ComponentError, type Component } from './process-group';
import { memcachedArgs } from './memcached';
import { httpOk, memcachedVersion, redisPing } from './probes';
import { redisArgs } from './redis';
import {
  type MemcachedNode,
  type PostgresNode,
  type RedisNode,
  serviceEntry,
  serviceEnv,
  type ServiceProcess,
  type Topology,
} from './topology';

/**
 * The stack's component table: one row per kind, each saying how its processes run, when they
 * are healthy and how they stop. Stop ranks: the edge first, then the services, then what they
 * depend on (Redis, replicas, primaries), so nothing loses its database while still serving.
 */
export const STOP_RANK = {
  nginx: 0,
  service: 1,
  redis: 2,
  memcached: 2,
  replica: 3,
  primary: 4,
} as const;

/** Who runs Postgres and where its binaries are. */
export interface PgRuntime {
  id: PgIdentity;
  bin: string;
}

export function postgresComponent(t: Topology, node: PostgresNode, pg: PgRuntime): Component {
  return {
    name: node.name,
    kind: 'postgres',
    role: node.role,
    port: node.port,
    // A crashed Postgres needs a look (its log), not a silent restart loop.
    restartable: false,
    // Fast shutdown: roll back sessions, checkpoint, exit.
    stopSignal: 'SIGINT',
    // Read at stop time: a failover may have turned a replica into the primary.
    get stopRank() {
      return node.role === 'replica' ? STOP_RANK.replica : STOP_RANK.primary;
    },
    prepare: () => {
      writeNodeSettings(t, node, pg.id);
      removeStalePidFile(node, pg.id, pg.bin);
    },
    command: () => ({
      ...postgresCommand(node, pg.bin),
      uid: pg.id.uid,
      gid: pg.id.gid,
      cwd: node.dataDir,
    }),
    probe: () => pgReady(node.port, pg.id.superuser),
    startTimeoutMs: 30_000,
  };
}

export function redisComponent(node: RedisNode): Component {
  return {
    name: node.name,
    kind: 'redis',
    role: node.purpose,
    port: node.port,
    restartable: true,
    stopSignal: 'SIGTERM',
    stopRank: STOP_RANK.redis,
    prepare: () => mkdirSync(node.dataDir, { recursive: true }),
    command: () => ({ cmd: 'redis-server', args: redisArgs(node), cwd: node.dataDir }),
    probe: () => redisPing(node.port),
    startTimeoutMs: 15_000,
  };
}

export function memcachedComponent(node: MemcachedNode): Component {
  return {
    name: node.name,
    kind: 'memcached',
    role: 'cache',
    port: node.port,
    // A cache node: restarting it empty is exactly what a crash of one costs anyway.
    restartable: true,
    stopSignal: 'SIGTERM',
    stopRank: STOP_RANK.memcached,
    prepare: () => mkdirSync(node.dir, { recursive: true }),
    command: () => ({ cmd: 'memcached', args: memcachedArgs(node), cwd: node.dir }),
    probe: () => memcachedVersion(node.port),
    startTimeoutMs: 10_000,
  };
}

export interface ServiceRuntime {
  node: string;
  otlpEndpoint?: string;
  /** the pattern switches of the caller's environment (`patternSwitches`) */
  switches: Record<string, string>;
}

export function serviceComponent(t: Topology, s: ServiceProcess, rt: ServiceRuntime): Component {
  const entry = path.join(t.root, serviceEntry(s));
  return {
    name: s.name,
    kind: 'service',
    role: s.entry === 'worker' ? `${s.service} worker` : `${s.service} service`,
    port: s.port,
    restartable: true,
    stopSignal: 'SIGTERM',
    stopRank: STOP_RANK.service,
    prepare: () => {
      if (!existsSync(entry)) {
        throw new ComponentError(s.name, `${entry} is missing: build first (npm run build)`);
      }
    },
    command: () => ({
      cmd: rt.node,
      args: [entry],
      env: serviceEnv(t, s, { otlpEndpoint: rt.otlpEndpoint, extra: rt.switches }),
      cwd: t.root,
    }),
    probe: () => httpOk(`http://127.0.0.1:${s.port}/health/ready`),
    startTimeoutMs: 60_000,
  };
}

export interface EdgeRuntime {
  rateLimits: EdgeRateLimits;
  maxConns?: number;
  lb?: EdgeLb;
  edgeCache?: 'on' | 'off';
  compression?: EdgeCompression;
  /** EDGE_TLS: an HTTPS + HTTP/2 listener on the topology's tlsPort */
  tls?: boolean;
}

/**
 * A self-signed certificate for localhost and 127.0.0.1 (P-256), made once per stack directory
 * with openssl and renewed when older than 20 of its 30 days. Clients must trust it or skip
 * verification (curl -k); it is for trying HTTP/2 here, not for anything public.
 */
export function localCertificate(dir: string): { certificate: string; key: string } {
  const tlsDir = path.join(dir, 'tls');
  const certificate = path.join(tlsDir, 'localhost.crt');
  const key = path.join(tlsDir, 'localhost.key');
  const fresh =
    existsSync(certificate) &&
    existsSync(key) &&
    Date.now() - statSync(certificate).mtimeMs < 20 * 24 * 3600 * 1000;
  if (!fresh) {
    mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '30',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        certificate,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) {
      throw new ComponentError(
        'nginx',
        `EDGE_TLS=on needs openssl to make a local certificate: ${r.error?.message ?? r.stderr.trim()}`,
      );
    }
  }
  return { certificate, key };
}

export function nginxComponent(t: Topology, edge: EdgeRuntime): Component {
  const dir = t.nginx.dir;
  const conf = path.join(dir, 'nginx.conf');
  // `-e stderr`: the log NGINX opens before reading its config, which would otherwise be
  // /var/log/nginx/error.log (not writable without root).
  const args = ['-e', 'stderr', '-p', dir, '-c', conf];
  let nginx = '';
  return {
    name: 'nginx',
    kind: 'nginx',
    role: 'edge',
    port: t.nginx.port,
    restartable: true,
    // Graceful: finish requests in flight.
    stopSignal: 'SIGQUIT',
    stopRank: STOP_RANK.nginx,
    prepare: () => {
      nginx = findNginx();
      const workerUser = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
      if (edge.compression === 'brotli' && !existsSync(BROTLI_MODULE)) {
        throw new ComponentError(
          'nginx',
          `EDGE_COMPRESSION=brotli needs ${BROTLI_MODULE} (Debian: apt-get install libnginx-mod-http-brotli-filter)`,
        );
      }
      for (const tmp of [
        ...NGINX_TEMP_DIRS.map((sub) => path.join(dir, 'tmp', sub)),
        edgeCacheDir({ stateDir: dir }),
      ]) {
        mkdirSync(tmp, { recursive: true });
        // Workers write request bodies and proxied responses here after dropping root.
        if (workerUser) {
          chownSync(tmp, workerUser.uid, workerUser.gid);
        }
      }
      writeFileSync(
        conf,
        renderNginxConfig(t, {
          sharedDir: path.join(t.root, 'infra', 'nginx', 'conf.d'),
          workerUser: workerUser?.directive,
          rateLimits: edge.rateLimits,
          maxConns: edge.maxConns,
          lb: edge.lb,
          edgeCache: edge.edgeCache,
          compression: edge.compression,
          tls: edge.tls ? localCertificate(dir) : undefined,
        }),
      );
      const check = spawnSync(nginx, [...args, '-t', '-q'], { encoding: 'utf8' });
      if (check.status !== 0) {
        throw new ComponentError('nginx', `nginx -t failed for ${conf}:\n${check.stderr.trim()}`);
      }
    },
    command: () => ({ cmd: nginx, args: [...args, '-g', 'daemon off;'], cwd: dir }),
    probe: () => httpOk(`http://127.0.0.1:${t.nginx.port}/nginx/health`),
    startTimeoutMs: 10_000,
  };
}

/** Who NGINX workers run as when the master is root: `nobody` and its primary group. */
function unprivilegedUser(): { uid: number; gid: number; directive: string } {
  const id = (flag: string): string =>
    spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim();
  const uid = Number(id('-u'));
  const gid = Number(id('-g'));
  const group = id('-gn');
  if (!Number.isInteger(uid) || !group) {
    throw new ComponentError(
      'nginx',
      'running as root, but there is no `nobody` user for NGINX workers',
    );
  }
  return { uid, gid, directive: `nobody ${group}` };
}

export function findNginx(): string {
  for (const candidate of [
    process.env.NGINX_BIN,
    '/usr/sbin/nginx',
    '/usr/local/sbin/nginx',
    '/usr/local/nginx/sbin/nginx',
  ]) {
    if (candidate && existsSync(candidate)) {
      return candidate;
    }
  }
  const which = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) {
    return which.stdout.trim();
  }
  throw new ComponentError(
    'nginx',
    'nginx not found: install it (Debian/Ubuntu: apt-get install nginx; `npm start` does this when run as root) or set NGINX_BIN',
  );
}
