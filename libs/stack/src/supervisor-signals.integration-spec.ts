import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, waitFor } from '@murmur/testing';
import { stopStack } from './control';
import { findStackProcesses } from './processes';
import { buildTopology } from './topology';

/**
 * `npm start 2>&1 | tee start.log`, then Ctrl-C: the terminal's SIGINT kills tee too, and the
 * supervisor's next line to its stdout fails. The stop must go on and leave no process running;
 * a closed terminal (SIGHUP) and a `kill` (SIGTERM) must stop everything the same way. The real
 * CLI in the foreground, on the probe profile (its own directory and ports), Postgres and Redis
 * only.
 */
describe('the foreground supervisor, its stdout closed, on a signal', () => {
  const t = buildTopology({ profile: 'probe', root: REPO_ROOT });
  const cli = path.join(REPO_ROOT, 'dist', 'libs', 'stack', 'src', 'cli.js');
  let supervisor: ChildProcess | undefined;
  let starts = 0;

  afterAll(async () => {
    supervisor?.kill('SIGKILL');
    await stopStack({ profile: 'probe', root: REPO_ROOT, log: () => undefined });
  });

  it.each(['SIGINT', 'SIGHUP', 'SIGTERM'] as const)(
    '%s stops every process it started',
    async (signal) => {
      // Fresh data once; the later starts reuse it (no initdb).
      const fresh = starts++ === 0 ? ['--fresh'] : [];
      const child = spawn(
        process.execPath,
        [cli, 'start', '--profile', 'probe', '--only', 'infra', ...fresh],
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      supervisor = child;
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      let out = '';
      child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready in 90 s:\n${out}`)), 90_000);
        child.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('Ctrl-C stops everything')) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then((code) => reject(new Error(`exited with ${code} before ready:\n${out}`)));
      });
      expect(findStackProcesses(t.stateDir).length).toBeGreaterThanOrEqual(8);

      // Like tee dying on the same Ctrl-C: the read end of its stdout goes away.
      child.stdout?.destroy();
      child.kill(signal);
      await expect(exited).resolves.toBe(0);
      const left = await waitFor(
        () => {
          const found = findStackProcesses(t.stateDir);
          return Promise.resolve(found.length === 0 ? found : undefined);
        },
        { timeoutMs: 10_000, what: 'no process of the probe stack left' },
      ).catch(() => findStackProcesses(t.stateDir));
      expect(left).toEqual([]);
    },
    150_000,
  );
});
