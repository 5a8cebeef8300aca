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
import { findNginx, NGINX_TEMP_DIRS, renderEdgeConfig, type EdgeConfig } from '@murmur/stack';
import { freePort } from './free-port';
import { REPO_ROOT } from './stack-fixture';

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
  errorLog: () => string;
  /** the access log so far (written unbuffered) */
  accessLog: () => AccessLogLine[];
  stop: () => Promise<void>;
}

/**
 * A real NGINX of its own, next to the test stack's: the generated config (the shared conf.d, the
 * pools given) on a free local port, in a temp directory, one worker, an unbuffered access log.
 * For tests of edge settings the stack's NGINX does not run with (the edge cache, an algorithm).
 */
export async function startEdge(
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
      origin: 'libs/testing startEdge',
      listen: `127.0.0.1:${port}`,
      sharedDir: path.join(REPO_ROOT, 'infra/nginx/conf.d'),
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
