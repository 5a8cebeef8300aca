import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { PostgresNode, Topology } from './topology';

/** Who runs Postgres: the `postgres` OS user when we are root (Postgres refuses root), else us. */
export interface PgIdentity {
  uid?: number;
  gid?: number;
  /** the superuser role initdb creates */
  superuser: string;
}

export function pgIdentity(): PgIdentity {
  if (process.getuid?.() !== 0) {
    return { superuser: os.userInfo().username };
  }
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid, superuser: 'postgres' };
}

export function pgBinDir(): string {
  const fromEnv = process.env.PG_BINDIR;
  if (fromEnv && existsSync(path.join(fromEnv, 'initdb'))) {
    return fromEnv;
  }
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(path.join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) {
      return path.join(base, versions[0], 'bin');
    }
  }
  try {
    return execFileSync('pg_config', ['--bindir']).toString().trim();
  } catch {
    throw new Error(
      'PostgreSQL server binaries not found: install postgresql (15+) or set PG_BINDIR',
    );
  }
}

function runAs(id: PgIdentity, cmd: string, args: string[]): void {
  const result = spawnSync(cmd, args, { uid: id.uid, gid: id.gid, encoding: 'utf8', cwd: '/' });
  if (result.status !== 0) {
    throw new Error(
      `${path.basename(cmd)} failed: ${result.stderr || result.stdout || result.error?.message}`,
    );
  }
}

function ensureDirFor(id: PgIdentity, dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (id.uid !== undefined && id.gid !== undefined) {
    chownSync(dir, id.uid, id.gid);
  }
}

/** Settings for every node; the test profile trades durability for speed. */
function settings(t: Topology): string {
  const lines = [
    "listen_addresses = '127.0.0.1'",
    "unix_socket_directories = ''",
    'max_connections = 300',
    'shared_buffers = 64MB',
    'wal_level = replica',
    'max_wal_senders = 10',
    'max_replication_slots = 10',
    'wal_keep_size = 512MB',
    'hot_standby = on',
    'hot_standby_feedback = on',
    "log_min_messages = 'warning'",
    "log_line_prefix = '%m [%p] '",
  ];
  if (t.profile === 'test') {
    lines.push('fsync = off', 'synchronous_commit = off', 'full_page_writes = off');
  }
  return `\n# murmur local stack\n${lines.join('\n')}\n`;
}

export function isInitialised(node: PostgresNode): boolean {
  return existsSync(path.join(node.dataDir, 'PG_VERSION'));
}

/** initdb a primary (trust auth on 127.0.0.1 only: a development stack, never a deployment). */
export function initPrimary(t: Topology, node: PostgresNode, id: PgIdentity, bin: string): void {
  ensureDirFor(id, path.dirname(node.dataDir));
  runAs(id, path.join(bin, 'initdb'), [
    '-D',
    node.dataDir,
    '-U',
    id.superuser,
    '--auth=trust',
    '--encoding=UTF8',
    '--no-locale',
    '--no-sync',
  ]);
  appendFileSync(path.join(node.dataDir, 'postgresql.conf'), settings(t));
}

/** A streaming replica: a base backup of the running primary with standby settings (-R). */
export function initReplica(node: PostgresNode, id: PgIdentity, bin: string): void {
  ensureDirFor(id, path.dirname(node.dataDir));
  runAs(id, path.join(bin, 'pg_basebackup'), [
    '-h',
    '127.0.0.1',
    '-p',
    String(node.primaryPort),
    '-U',
    id.superuser,
    '-D',
    node.dataDir,
    '-R',
    '-X',
    'stream',
    '-c',
    'fast',
    '--no-sync',
  ]);
}

export function postgresCommand(
  dataDir: string,
  port: number,
  bin: string,
): { cmd: string; args: string[] } {
  return { cmd: path.join(bin, 'postgres'), args: ['-D', dataDir, '-p', String(port)] };
}

export async function pgReady(port: number, superuser: string): Promise<boolean> {
  const client = new Client({
    host: '127.0.0.1',
    port,
    user: superuser,
    database: 'postgres',
    connectionTimeoutMillis: 1000,
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The application role and database on a primary (idempotent). */
export async function ensureDatabase(
  port: number,
  superuser: string,
  role: string,
  database: string,
): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: superuser, database: 'postgres' });
  await client.connect();
  try {
    const roles = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (roles.rowCount === 0) {
      await client.query(`CREATE ROLE "${role}" LOGIN`);
    }
    const dbs = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (dbs.rowCount === 0) {
      await client.query(`CREATE DATABASE "${database}" OWNER "${role}"`);
    }
  } finally {
    await client.end();
  }
}
