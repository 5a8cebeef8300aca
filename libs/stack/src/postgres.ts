import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { PostgresNode, Topology } from './topology';

/** Who runs Postgres: the `postgres` OS user when we are root (Postgres refuses root), else us. */
export interface PgIdentity {
  uid?: number;
  gid?: number;
  /** the superuser role initdb creates; the stack connects as it for setup and probes */
  superuser: string;
}

export function pgIdentity(): PgIdentity {
  if (process.getuid?.() !== 0) {
    return { superuser: os.userInfo().username };
  }
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid, superuser: 'postgres' };
  } catch {
    throw new Error(
      'running as root, but there is no `postgres` OS user to run Postgres as (Postgres refuses ' +
        'root): install the postgresql package, or run the stack as a normal user',
    );
  }
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

/** Run a Postgres tool as the Postgres OS user; resolves with its output, rejects with stderr. */
function runAs(id: PgIdentity, cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      uid: id.uid,
      gid: id.gid,
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${path.basename(cmd)} ${args.join(' ')} failed:\n${out.trim()}`)),
    );
  });
}

export function ownDir(id: PgIdentity, dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (id.uid !== undefined && id.gid !== undefined) {
    chownSync(dir, id.uid, id.gid);
  }
}

/**
 * When we run Postgres as another user, every directory above its data must let that user pass.
 * Say so plainly instead of letting initdb fail with "Permission denied" deep in its output.
 */
export function assertReachable(id: PgIdentity, dir: string): void {
  if (id.uid === undefined) {
    return;
  }
  const probe = spawnSync('test', ['-x', dir], { uid: id.uid, gid: id.gid });
  if (probe.status !== 0) {
    throw new Error(
      `the postgres OS user cannot reach ${dir}: every parent directory needs o+x ` +
        '(for example chmod o+x on the checkout and its parents), or run the stack as a normal user',
    );
  }
}

const INCLUDE_LINE = "include_if_exists = 'murmur.conf'";

/**
 * Settings of every node, rewritten on each start so that a change here reaches existing data
 * directories. Trust authentication and fsync=off are for this local stack only.
 */
export function postgresSettings(t: Topology, node: PostgresNode): string {
  const lines = [
    '# Written by libs/stack on every start; edits here are lost.',
    `cluster_name = '${node.name}'`,
    "listen_addresses = '127.0.0.1'",
    // TCP only: no socket file in /var/run/postgresql, which a second stack would collide on.
    "unix_socket_directories = ''",
    'max_connections = 200',
    'shared_buffers = 32MB',
    'wal_level = replica',
    'max_wal_senders = 10',
    'max_replication_slots = 10',
    // Without slots a replica that falls behind needs the WAL still on the primary.
    'wal_keep_size = 256MB',
    'hot_standby = on',
    // Replicas report their oldest snapshot, so the primary's vacuum does not cancel their reads.
    'hot_standby_feedback = on',
    'log_min_messages = warning',
    "log_line_prefix = '%m [%p] '",
    'log_checkpoints = off',
  ];
  const standbys = t.postgres.filter((n) => n.cluster === node.cluster && n !== node).length;
  if (standbys >= 2) {
    // A commit waits until one standby has it (quorum of one, any standby): a failover then
    // promotes a standby that holds every acknowledged write, and one standby down does not
    // stop writes. A cluster with a single standby stays asynchronous, or losing that standby
    // would stall every write: there a primary crash can lose the last acknowledged commits.
    lines.push("synchronous_standby_names = 'ANY 1 (*)'");
  }
  if (t.profile !== 'dev') {
    // Test data is thrown away: durability costs time and buys nothing here.
    lines.push('fsync = off', 'synchronous_commit = off', 'full_page_writes = off');
  }
  return `${lines.join('\n')}\n`;
}

/** Local stack only: trust on 127.0.0.1, for clients and for replication. */
const PG_HBA = `# Written by libs/stack: a development stack listening on 127.0.0.1 only.
# TYPE  DATABASE     USER  ADDRESS       METHOD
host    all          all   127.0.0.1/32  trust
host    replication  all   127.0.0.1/32  trust
`;

/** Write a file into a data directory, owned by the Postgres OS user like the rest of it. */
function writeOwned(id: PgIdentity, file: string, content: string): void {
  writeFileSync(file, content, { mode: 0o600 });
  if (id.uid !== undefined && id.gid !== undefined) {
    chownSync(file, id.uid, id.gid);
  }
}

export function writeNodeSettings(t: Topology, node: PostgresNode, id: PgIdentity): void {
  writeOwned(id, path.join(node.dataDir, 'murmur.conf'), postgresSettings(t, node));
}

/**
 * A primary is ready to use once initdb finished and we added our include; a replica once
 * pg_basebackup finished, which writes standby.signal last. A directory left half-way by an
 * interrupted run does not count and is made again.
 */
export function isInitialised(node: PostgresNode): boolean {
  if (node.role === 'replica') {
    return existsSync(path.join(node.dataDir, 'standby.signal'));
  }
  const conf = path.join(node.dataDir, 'postgresql.conf');
  return existsSync(conf) && readFileSync(conf, 'utf8').includes(INCLUDE_LINE);
}

/** initdb a primary (trust auth on 127.0.0.1 only: a development stack, never a deployment). */
export async function initPrimary(
  t: Topology,
  node: PostgresNode,
  id: PgIdentity,
  bin: string,
): Promise<void> {
  rmSync(node.dataDir, { recursive: true, force: true });
  ownDir(id, path.dirname(node.dataDir));
  await runAs(id, path.join(bin, 'initdb'), [
    '-D',
    node.dataDir,
    '-U',
    id.superuser,
    '--auth=trust',
    '--encoding=UTF8',
    '--no-locale',
    '--no-sync',
    '--no-instructions',
  ]);
  writeOwned(id, path.join(node.dataDir, 'pg_hba.conf'), PG_HBA);
  appendFileSync(path.join(node.dataDir, 'postgresql.conf'), `\n${INCLUDE_LINE}\n`);
}

/**
 * A physical streaming replica: a base backup of the running primary, WAL streamed during the
 * copy (-X stream), and standby.signal plus primary_conninfo written for us (-R).
 */
export async function initReplica(node: PostgresNode, id: PgIdentity, bin: string): Promise<void> {
  if (node.primaryPort === undefined) {
    throw new Error(`${node.name} is a replica without a primary`);
  }
  rmSync(node.dataDir, { recursive: true, force: true });
  ownDir(id, path.dirname(node.dataDir));
  await runAs(id, path.join(bin, 'pg_basebackup'), [
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

export function postgresCommand(node: PostgresNode, bin: string): { cmd: string; args: string[] } {
  // Foreground postmaster (not pg_ctl): the supervisor owns its pid and stops it with SIGINT.
  return { cmd: path.join(bin, 'postgres'), args: ['-D', node.dataDir, '-p', String(node.port)] };
}

/**
 * A pid file left by a killed run stops Postgres from starting when its pid now belongs to some
 * other process. pg_ctl knows whether a postmaster really runs on the directory.
 */
export function removeStalePidFile(node: PostgresNode, id: PgIdentity, bin: string): void {
  const pidFile = path.join(node.dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) {
    return;
  }
  const probe = spawnSync(path.join(bin, 'pg_ctl'), ['status', '-D', node.dataDir], {
    uid: id.uid,
    gid: id.gid,
    cwd: '/',
  });
  if (probe.status === 0) {
    throw new Error(
      `a postgres already runs on ${node.dataDir} (left by an earlier run?): ` +
        'stop it with `npm run stack:down` (with the same --profile)',
    );
  }
  rmSync(pidFile, { force: true });
}

/**
 * The stack's own sessions (creating roles and databases, probing, promoting) commit locally: a
 * primary with `synchronous_standby_names` set is started, and bootstrapped, before its standbys
 * exist, and a commit waiting for a standby that is not there yet would hang the start.
 */
export const ADMIN_SESSION_OPTIONS = '-c synchronous_commit=local';

async function withClient<T>(
  port: number,
  user: string,
  fn: (client: Client) => Promise<T>,
  database = 'postgres',
  timeoutMs = 2000,
): Promise<T> {
  const client = new Client({
    host: '127.0.0.1',
    port,
    user,
    database,
    connectionTimeoutMillis: timeoutMs,
    // A hung server (SIGSTOP) accepts the connection and then answers nothing.
    query_timeout: timeoutMs,
    options: ADMIN_SESSION_OPTIONS,
  });
  // A refused connection emits 'error' as well as rejecting connect(): keep it from crashing us.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Does the node run `sql` without an error? */
async function succeeds(port: number, superuser: string, sql: string): Promise<boolean> {
  try {
    return await withClient(port, superuser, async (c) => {
      await c.query(sql);
      return true;
    });
  } catch {
    return false;
  }
}

export function pgReady(port: number, superuser: string): Promise<boolean> {
  return succeeds(port, superuser, 'SELECT 1');
}

/** True once a replica's WAL receiver is connected and streaming from its primary. */
export async function pgStreaming(port: number, superuser: string): Promise<boolean> {
  return (await walReceiver(port, superuser))?.status === 'streaming';
}

/** A standby's WAL receiver (undefined when it has none or does not answer). */
async function walReceiver(
  port: number,
  superuser: string,
): Promise<{ status: string; sender_port: number | null } | undefined> {
  try {
    return await withClient(port, superuser, async (c) => {
      const r = await c.query<{ status: string; sender_port: number | null }>(
        'SELECT status, sender_port FROM pg_stat_wal_receiver',
      );
      return r.rows[0];
    });
  } catch {
    return undefined;
  }
}

export interface ReplicationRow {
  application_name: string;
  client_port: number;
  state: string;
  sync_state: string;
  replay_lag_bytes: string;
}

/** What a primary's pg_stat_replication says about its replicas. */
export function pgReplication(port: number, superuser: string): Promise<ReplicationRow[]> {
  return withClient(port, superuser, async (c) => {
    const r = await c.query<ReplicationRow>(
      `SELECT application_name, client_port, state, sync_state,
              pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::text AS replay_lag_bytes
         FROM pg_stat_replication ORDER BY application_name`,
    );
    return r.rows;
  });
}

/** The application role and database on a primary (idempotent). */
export async function ensureDatabase(
  port: number,
  superuser: string,
  role: string,
  database: string,
): Promise<void> {
  await withClient(port, superuser, async (client) => {
    const roles = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (roles.rowCount === 0) {
      await client.query(`CREATE ROLE "${role}" LOGIN`);
    }
    // Read-only statistics: the seeder waits on pg_stat_replication's replay positions, which
    // are hidden from roles without it (as on a managed Postgres, where this is granted too).
    await client.query(`GRANT pg_read_all_stats TO "${role}"`);
    const dbs = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (dbs.rowCount === 0) {
      await client.query(`CREATE DATABASE "${database}" OWNER "${role}"`);
    }
  });
}

export interface PgNodeStatus {
  reachable: boolean;
  standby?: boolean;
  /** a primary's insert position; a standby's furthest received or replayed position */
  lsn?: string;
}

/** Is a node up, a primary or a standby, and how far is its WAL (a failover promotes the furthest)? */
export async function pgNodeStatus(
  port: number,
  superuser: string,
  timeoutMs = 1000,
): Promise<PgNodeStatus> {
  try {
    return await withClient(
      port,
      superuser,
      async (c) => {
        const r = await c.query<{ standby: boolean; lsn: string | null }>(
          `SELECT pg_is_in_recovery() AS standby,
                  (CASE WHEN pg_is_in_recovery()
                        THEN GREATEST(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
                        ELSE pg_current_wal_insert_lsn() END)::text AS lsn`,
        );
        return { reachable: true, standby: r.rows[0].standby, lsn: r.rows[0].lsn ?? undefined };
      },
      'postgres',
      timeoutMs,
    );
  } catch {
    return { reachable: false };
  }
}

/** Promote a standby (it replays what it has received first) and wait until it is a primary. */
export async function pgPromote(port: number, superuser: string): Promise<void> {
  await withClient(
    port,
    superuser,
    async (c) => {
      const r = await c.query<{ promoted: boolean }>('SELECT pg_promote(true, 60) AS promoted');
      if (!r.rows[0].promoted) {
        throw new Error(`the standby on :${port} did not finish promotion within 60 s`);
      }
    },
    'postgres',
    65_000,
  );
}

/** Can the node take a write now (assigning a transaction id needs a primary)? */
export function pgWritable(port: number, superuser: string): Promise<boolean> {
  return succeeds(port, superuser, 'SELECT txid_current()');
}

/**
 * Point a running standby at another primary: primary_conninfo is reloadable, and with
 * recovery_target_timeline 'latest' (the default) it follows the promoted node's new timeline,
 * provided it has not replayed past the point where that timeline forked.
 */
export async function pgFollow(
  port: number,
  superuser: string,
  primaryPort: number,
): Promise<void> {
  await withClient(port, superuser, async (c) => {
    await c.query(
      `ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=${superuser}'`,
    );
    await c.query('SELECT pg_reload_conf()');
  });
}

/** True once a standby streams from the primary on `primaryPort`. */
export async function pgStreamingFrom(
  port: number,
  superuser: string,
  primaryPort: number,
): Promise<boolean> {
  const receiver = await walReceiver(port, superuser);
  return receiver?.status === 'streaming' && receiver.sender_port === primaryPort;
}
