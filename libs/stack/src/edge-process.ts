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
import os from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { findNginx } from './components';
import { NGINX_TEMP_DIRS, renderEdgeConfig, type EdgeConfig } from './nginx-config';

/** One line of the edge's JSON access log (infra/nginx/conf.d/murmur-http.conf). */
export interface AccessLogLine {
  uri: string;
  method: string;
  status: number;
  upstream_addr: string;
  upstream_status: string;
  cache: string;
}

export interface StartedEdge {
  base: string;
  /** the master's pid */
  pid: number;
  errorLog: () => string;
  /** the access log so far (written unbuffered) */
  accessLog: () => AccessLogLine[];
  stop: () => Promise<void>;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/**
 * A real NGINX of its own, next to a stack's: the generated config (the shared conf.d of the
 * checkout at `root`, the pools given) on a free local port, in a temp directory, one worker by
 * default, an unbuffered access log. For tests of edge settings the stack's NGINX does not run
 * with (the edge cache, an algorithm) and for benchmarks that put NGINX in front of their own
 * processes.
 */
export async function runEdge(
  root: string,
  config: Pick<EdgeConfig, 'pools'> & Partial<EdgeConfig>,
): Promise<StartedEdge> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'murmur-edge-'));
  // As root, the workers drop to nobody (as the local stack does) and need these directories.
  const asRoot = process.getuid?.() === 0;
  chmodSync(dir, 0o755);
  for (const sub of [...NGINX_TEMP_DIRS.map((s) => path.join('tmp', s)), 'cache']) {
    mkdirSync(path.join(dir, sub), { recursive: true, mode: 0o777 });
    chmodSync(path.join(dir, sub), 0o777);
  }
  const group = asRoot
    ? spawnSync('id', ['-gn', 'nobody'], { encoding: 'utf8' }).stdout.trim()
    : '';
  const port = await freePort();
  const errorLogFile = path.join(dir, 'error.log');
  const accessLogFile = path.join(dir, 'access.log');
  const file = path.join(dir, 'nginx.conf');
  writeFileSync(
    file,
    renderEdgeConfig({
      origin: 'runEdge (libs/stack/src/edge-process.ts)',
      listen: `127.0.0.1:${port}`,
      sharedDir: path.join(root, 'infra/nginx/conf.d'),
      stateDir: dir,
      accessLog: accessLogFile,
      accessLogBuffered: false,
      errorLog: errorLogFile,
      workerUser: asRoot ? `nobody ${group}` : undefined,
      workerProcesses: 1,
      ...config,
    }),
  );
  const nginx = spawn(
    findNginx(),
    ['-e', errorLogFile, '-p', dir, '-c', file, '-g', 'daemon off;'],
    { stdio: 'ignore' },
  );
  const exited = new Promise((resolve) => nginx.once('exit', resolve));
  const base = `http://127.0.0.1:${port}`;
  const errorLog = (): string =>
    existsSync(errorLogFile) ? readFileSync(errorLogFile, 'utf8') : '';
  const stop = async (): Promise<void> => {
    nginx.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 5_000;
  for (;;) {
    const up = await fetch(`${base}/nginx/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) {
      break;
    }
    if (Date.now() > deadline || nginx.exitCode !== null) {
      const log = errorLog();
      await stop();
      throw new Error(`nginx did not start:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    base,
    pid: nginx.pid ?? 0,
    errorLog,
    accessLog: () =>
      existsSync(accessLogFile)
        ? readFileSync(accessLogFile, 'utf8')
            .split('\n')
            .filter((l) => l.trim() !== '')
            .map((l) => JSON.parse(l) as AccessLogLine)
        : [],
    stop,
  };
}
