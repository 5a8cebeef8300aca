import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '@murmur/testing';
import {
  ensureDatabase,
  initPrimary,
  pgBinDir,
  pgIdentity,
  pgReady,
  postgresCommand,
  postgresSettings,
  writeNodeSettings,
} from './postgres';
import { buildTopology } from './topology';

/**
 * A fresh dev stack's main primary has `synchronous_standby_names` from its first start, and the
 * stack bootstraps it (role, database) before any standby exists. A commit that waited for a
 * standby would hang there (`Query read timeout`): the stack's own sessions commit locally.
 * A scratch primary with the dev profile's settings, on its own port and directory.
 */
describe('bootstrapping a primary that has synchronous standbys configured', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'murmur-pg-sync-'));
  const t = buildTopology({ profile: 'dev', root });
  const id = pgIdentity();
  const bin = pgBinDir();
  let postgres: ChildProcess | undefined;

  afterAll(async () => {
    if (postgres && postgres.exitCode === null) {
      const exited = new Promise((r) => postgres?.once('exit', r));
      postgres.kill('SIGINT');
      await exited;
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('creates the role and the database without waiting for a standby', async () => {
    const main = t.postgres.find((n) => n.cluster === 'main' && n.role === 'primary');
    if (!main) {
      throw new Error('no main primary in the dev topology');
    }
    const node = { ...main, port: await freePort(), dataDir: path.join(root, 'pg', 'main') };
    expect(postgresSettings(t, node)).toContain("synchronous_standby_names = 'ANY 1 (*)'");
    chmodSync(root, 0o755);
    await initPrimary(t, node, id, bin);
    writeNodeSettings(t, node, id);
    const { cmd, args } = postgresCommand(node, bin);
    postgres = spawn(cmd, args, { uid: id.uid, gid: id.gid, cwd: '/', stdio: 'ignore' });
    await waitFor(async () => ((await pgReady(node.port, id.superuser)) ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the scratch primary accepting connections',
    });
    const started = Date.now();
    await ensureDatabase(node.port, id.superuser, 'murmur_sync_probe', 'murmur_sync_probe');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
