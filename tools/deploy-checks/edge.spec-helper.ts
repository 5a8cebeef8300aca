import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  edgeCacheDir,
  NGINX_TEMP_DIRS,
  POOLS,
  renderEdgeConfig,
  type EdgeConfig,
  type EdgeRateLimits,
} from '@murmur/stack';
import { REPO_ROOT } from './manifests';
import { describeWithTool } from './with-tool.spec-helper';

/** Specs that need a real NGINX run only where one is installed (npm test installs it as root). */
export const describeWithNginx = describeWithTool(
  spawnSync('nginx', ['-v'], { encoding: 'utf8' }).status === 0
    ? undefined
    : 'nginx is not installed (npm test installs it with apt-get when run as root: apt-get install nginx)',
);

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createTcpServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });

/** A stub upstream's handler; `index` says which of the pool's servers got the request. */
export type StubHandler = (req: IncomingMessage, res: ServerResponse, index: number) => void;

export const answer200: StubHandler = (req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
};

/** One line of the edge's JSON access log (the fields these specs read). */
export interface AccessLogLine {
  uri: string;
  status: number;
  upstream_addr: string;
  cache: string;
}

export interface RunningEdge {
  base: string;
  errorLog: () => string;
  /** the access log so far (NGINX writes it unbuffered here) */
  accessLog: () => AccessLogLine[];
  /** `127.0.0.1:<port>` of each stub server, in pool order */
  servers: string[];
  /** close stub server `index` (its port then refuses connections) */
  stopServer: (index: number) => Promise<void>;
}

export interface EdgeStub {
  handler?: StubHandler;
  maxConns?: number;
  /** stub servers per pool (the same servers in every pool) */
  servers?: number;
  /** more of the generated config: lb, edgeCache, compression, … */
  edge?: Partial<EdgeConfig>;
}

const closeServer = (u: Server): Promise<void> =>
  new Promise((resolve) => {
    if (!u.listening) {
      resolve();
      return;
    }
    u.closeAllConnections();
    u.close(() => resolve());
  });

/**
 * A real NGINX with the shared conf.d and the given limits on a free local port, every pool
 * pointing at stub upstreams (by default one, answering 200); runs `use`, then stops both.
 */
export async function withEdge(
  rateLimits: EdgeRateLimits,
  use: (edge: RunningEdge) => Promise<void>,
  stub: EdgeStub = {},
): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'murmur-edge-'));
  // Two servers per pool when asked, so that a retry to "the next server" is possible at all.
  const handler = stub.handler ?? answer200;
  const upstreams: Server[] = Array.from({ length: stub.servers ?? 1 }, (_, i) =>
    createServer((req, res) => handler(req, res, i)),
  );
  const servers: string[] = [];
  for (const u of upstreams) {
    await new Promise<void>((resolve) => u.listen(0, '127.0.0.1', resolve));
    servers.push(`127.0.0.1:${(u.address() as AddressInfo).port}`);
  }
  const port = await freePort();
  // As root, the workers drop to nobody (as the local stack does) and need the temp dirs.
  const asRoot = process.getuid?.() === 0;
  chmodSync(dir, 0o755);
  for (const sub of [...NGINX_TEMP_DIRS.map((s) => path.join('tmp', s)), 'cache']) {
    mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o777 });
    chmodSync(path.join(dir, sub), 0o777);
  }
  const group = asRoot
    ? spawnSync('id', ['-gn', 'nobody'], { encoding: 'utf8' }).stdout.trim()
    : '';
  const errorLogFile = path.join(dir, 'error.log');
  const accessLogFile = path.join(dir, 'access.log');
  const file = path.join(dir, 'nginx.conf');
  const config: EdgeConfig = {
    origin: 'edge.spec-helper',
    listen: `127.0.0.1:${port}`,
    sharedDir: path.join(REPO_ROOT, 'infra/nginx/conf.d'),
    stateDir: dir,
    accessLog: accessLogFile,
    // The specs read it right after their requests.
    accessLogBuffered: false,
    errorLog: errorLogFile,
    workerUser: asRoot ? `nobody ${group}` : undefined,
    workerProcesses: 1,
    rateLimits,
    maxConns: stub.maxConns,
    pools: POOLS.map((name) => ({ name, servers })),
    ...stub.edge,
  };
  if (edgeCacheDir(config) !== path.join(dir, 'cache')) {
    throw new Error('withEdge keeps the edge cache in its own directory');
  }
  writeFileSync(file, renderEdgeConfig(config));
  const nginx = spawn('nginx', ['-e', errorLogFile, '-p', dir, '-c', file, '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => nginx.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  const accessLog = (): AccessLogLine[] =>
    existsSync(accessLogFile)
      ? readFileSync(accessLogFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as AccessLogLine)
      : [];
  try {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const up = await fetch(`${base}/nginx/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`nginx did not start:\n${readFileSync(errorLogFile, 'utf8')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await use({
      base,
      errorLog: () => readFileSync(errorLogFile, 'utf8'),
      accessLog,
      servers,
      stopServer: (index) => closeServer(upstreams[index]),
    });
  } finally {
    nginx.kill('SIGTERM');
    await exited;
    await Promise.all(upstreams.map(closeServer));
    rmSync(dir, { recursive: true, force: true });
  }
}
