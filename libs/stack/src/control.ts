import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type FailoverRequest, type FailoverSummary, withCurrentRoles } from './failover';
import type { ComponentStatus } from './output';
import { pgIdentity, pgReady } from './postgres';
import {
  alive,
  findStackProcesses,
  hasProc,
  isStackCli,
  killStackProcesses,
  nodeBinary,
  STACK_MARKER,
} from './processes';
import { httpOk, memcachedVersion, redisPing, sleep } from './probes';
import { type ComponentState, readState, removeState, type StackState } from './state';
import { controlSocket, migrateEnv } from './supervisor';
import { buildTopology, type StackProfile, type Topology } from './topology';

export interface StackOptions {
  profile?: StackProfile;
  /** the repository root (where dist/ and the state directory are); default: the current directory */
  root?: string;
  /** NGINX port; default: the profile's (8080 dev, 18080 test) */
  nginxPort?: number;
  /** wipe the state directory (all data) first */
  fresh?: boolean;
  /** `infra`: Postgres and Redis only — no migrations, services or NGINX */
  only?: 'infra';
  /** OTEL_EXPORTER_OTLP_ENDPOINT for the services */
  otlpEndpoint?: string;
  /** how long `startStack` waits for every component to be healthy; default 90 s */
  timeoutMs?: number;
  /** progress lines; default: stdout */
  log?: (line: string) => void;
}

export interface StackHandle {
  topology: Topology;
  state: StackState;
  /** the edge, when NGINX runs (not with `only: 'infra'`) */
  url?: string;
}

const DEFAULT_TIMEOUT_MS = 90_000;

/** The profile's topology, with the Postgres roles left by failovers. */
export function stackTopology(o: StackOptions): Topology {
  return withCurrentRoles(
    buildTopology({ profile: o.profile, root: o.root, nginxPort: o.nginxPort }),
  );
}

const defaultLog = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 30): string {
  if (!existsSync(file)) {
    return '(no log)';
  }
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** The state of the stack whose supervisor is alive, if any. */
export function runningStack(t: Topology): StackState | undefined {
  const state = readState(t);
  return state && isStackCli(state.supervisorPid) ? state : undefined;
}

const sameRequest = (state: StackState, t: Topology, o: StackOptions): boolean =>
  state.only === o.only &&
  state.otlpEndpoint === o.otlpEndpoint &&
  state.nginxPort === t.nginx.port;

/**
 * `up`: start the supervisor in the background (it outlives this process, e.g. Jest's global
 * setup) and resolve once every component is healthy. A stack already running as asked is
 * reused; one started with other options is restarted. Rejects naming the failing component,
 * with the tail of its log.
 */
export async function startStack(options: StackOptions = {}): Promise<StackHandle> {
  const t = stackTopology(options);
  const log = options.log ?? defaultLog;
  const url = options.only === 'infra' ? undefined : `http://127.0.0.1:${t.nginx.port}`;
  const running = runningStack(t);
  if (running?.ready && !options.fresh && sameRequest(running, t, options)) {
    log(`stack (${t.profile}) already running`);
    return { topology: t, state: running, url };
  }
  await stopStack({ ...options, log: () => undefined });
  if (options.fresh) {
    rmSync(t.stateDir, { recursive: true, force: true });
  }
  const cli = path.join(t.root, 'dist', 'libs', 'stack', 'src', 'cli.js');
  if (!existsSync(cli)) {
    throw new Error(`${cli} is missing: build first (npm run build)`);
  }
  mkdirSync(t.logDir, { recursive: true });
  const supervisorLog = path.join(t.logDir, 'supervisor.log');
  const out = openSync(supervisorLog, 'a');
  const args = [cli, 'supervise', '--profile', t.profile, '--port', String(t.nginx.port)];
  if (options.only) {
    args.push('--only', options.only);
  }
  if (options.otlpEndpoint) {
    args.push('--otlp', options.otlpEndpoint);
  }
  const child = spawn(nodeBinary(t.root), args, {
    cwd: t.root,
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, [STACK_MARKER]: t.stateDir },
  });
  child.unref();
  closeSync(out);

  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let shown = -1;
  for (;;) {
    await sleep(150);
    const state = readState(t);
    const mine = state?.supervisorPid === child.pid ? state : undefined;
    const healthy = mine?.components.filter((c) => c.healthy).length ?? 0;
    if (healthy !== shown) {
      shown = healthy;
      log(`  ${healthy} components healthy (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    if (mine?.ready) {
      return { topology: t, state: mine, url };
    }
    const failed = mine?.failed ?? (alive(child.pid) ? undefined : 'supervisor');
    if (failed || Date.now() > deadline) {
      await stopStack({ ...options, log: () => undefined });
      const name = failed ?? firstUnhealthy(mine) ?? 'supervisor';
      // A component's own log only if it ran this time (an old log would mislead).
      const ran = mine?.components.some((c) => c.name === name) || name === 'migrate';
      const logFile = ran ? componentLog(t, name) : supervisorLog;
      const why = failed
        ? (mine?.error ?? 'the supervisor exited')
        : `not healthy within ${((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000).toFixed(0)} s`;
      throw new Error(
        `stack (${t.profile}) failed at ${name}: ${why}\n` +
          `--- ${logFile} (last lines) ---\n${tail(logFile)}` +
          (logFile === supervisorLog
            ? ''
            : `\n--- ${supervisorLog} (last lines) ---\n${tail(supervisorLog, 12)}`),
      );
    }
  }
}

function firstUnhealthy(state: StackState | undefined): string | undefined {
  return state?.components.find((c) => !c.healthy)?.name;
}

/** The log file of a component (or the supervisor's for a phase that is not one). */
function componentLog(t: Topology, name: string): string {
  const file = path.join(t.logDir, `${name}.log`);
  return existsSync(file) ? file : path.join(t.logDir, 'supervisor.log');
}

export interface StopResult {
  /** processes the supervisor stopped */
  stopped: number;
  /** processes found still running afterwards (or without a supervisor) and killed */
  leftovers: number;
}

/**
 * `down`: ask the supervisor to stop everything in order, then stop whatever is still marked as
 * this stack's (a supervisor that crashed or was killed leaves its children running).
 */
export async function stopStack(options: StackOptions = {}): Promise<StopResult> {
  const t = stackTopology(options);
  const log = options.log ?? defaultLog;
  const state = readState(t);
  const recorded = (state?.components ?? []).map((c) => c.pid).filter((p): p is number => alive(p));
  let stopped = 0;
  if (state && isStackCli(state.supervisorPid)) {
    stopped = recorded.length;
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + 60_000;
    while (alive(state.supervisorPid) && Date.now() < deadline) {
      await sleep(100);
    }
  }
  let leftovers = 0;
  if (hasProc()) {
    leftovers = await killStackProcesses(t.stateDir);
  } else {
    // Without /proc we cannot check a pid still is ours; trust the state file.
    for (const pid of recorded.filter(alive)) {
      leftovers++;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  removeState(t);
  if (stopped + leftovers === 0) {
    log(`stack (${t.profile}): nothing was running`);
  } else {
    log(
      `stack (${t.profile}) stopped: ${stopped} processes` +
        (leftovers > 0 ? `, ${leftovers} left-over processes stopped` : ''),
    );
  }
  return { stopped, leftovers };
}

function probe(c: ComponentState, superuser: string): Promise<boolean> {
  if (!alive(c.pid)) {
    return Promise.resolve(false);
  }
  switch (c.kind) {
    case 'postgres':
      return pgReady(c.port, superuser);
    case 'redis':
      return redisPing(c.port);
    case 'memcached':
      return memcachedVersion(c.port);
    case 'nginx':
      return httpOk(`http://127.0.0.1:${c.port}/nginx/health`);
    case 'service':
      return httpOk(`http://127.0.0.1:${c.port}/health/ready`);
  }
}

export interface StackStatus {
  /** whether the supervisor is alive */
  running: boolean;
  ready: boolean;
  components: ComponentStatus[];
  /** processes of this stack found without a live supervisor (stop them with `down`) */
  orphans: number;
}

/** `status`: every component the supervisor started, probed now. */
export async function stackStatus(options: StackOptions = {}): Promise<StackStatus> {
  const t = stackTopology(options);
  const state = readState(t);
  const running = state !== undefined && isStackCli(state.supervisorPid);
  const superuser = pgIdentity().superuser;
  const components = await Promise.all(
    (state?.components ?? []).map(async (c) => ({
      name: c.name,
      role: c.role,
      port: c.port,
      pid: alive(c.pid) ? (c.pid ?? null) : null,
      healthy: await probe(c, superuser),
    })),
  );
  return {
    running,
    ready: running && (state?.ready ?? false),
    components,
    orphans: running ? 0 : findStackProcesses(t.stateDir).length,
  };
}

/**
 * `migrate`: run the migrate command (dist/tools/migrate/main.js) against the running stack's
 * databases, with the environment a service gets. Resolves with its exit code.
 */
export async function migrateStack(
  options: StackOptions & { args?: string[]; stdio?: 'inherit' | 'ignore' } = {},
): Promise<number> {
  const t = stackTopology(options);
  const entry = path.join(t.root, 'dist', 'tools', 'migrate', 'main.js');
  if (!existsSync(entry)) {
    throw new Error(`${entry} is missing: build first (npm run build)`);
  }
  const superuser = pgIdentity().superuser;
  const primaries = t.postgres.filter((n) => n.role === 'primary');
  const down = (
    await Promise.all(primaries.map(async (n) => ((await pgReady(n.port, superuser)) ? [] : [n])))
  ).flat();
  if (down.length > 0) {
    throw new Error(
      `the ${t.profile} stack's Postgres is not running (${down.map((n) => `${n.name} :${n.port}`).join(', ')}): ` +
        `start it first (npm run stack:up${t.profile === 'dev' ? '' : ` -- --profile ${t.profile}`})`,
    );
  }
  return new Promise((resolve) => {
    const child = spawn(nodeBinary(t.root), [entry, ...(options.args ?? [])], {
      cwd: t.root,
      env: { ...process.env, ...migrateEnv(t) },
      stdio: options.stdio ?? 'inherit',
    });
    child.on('error', () => resolve(1));
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

/**
 * `failover`: ask the running stack's supervisor to fail a Postgres cluster over (it owns the
 * processes; see failover.ts), printing its progress; resolves with the summary.
 */
export async function failoverStack(
  options: StackOptions & FailoverRequest,
): Promise<FailoverSummary> {
  const t = stackTopology(options);
  const log = options.log ?? defaultLog;
  if (!runningStack(t)?.ready) {
    throw new Error(
      `no ${t.profile} stack is running (start it with npm run stack:up${t.profile === 'dev' ? '' : ` -- --profile ${t.profile}`})`,
    );
  }
  return new Promise((resolve, reject) => {
    const socket = createConnection(controlSocket(t));
    let buffer = '';
    let settled = false;
    const settle = (fn: () => void): void => {
      if (!settled) {
        settled = true;
        fn();
      }
    };
    socket.on('connect', () => {
      socket.write(
        `${JSON.stringify({ op: 'failover', cluster: options.cluster, to: options.to })}\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let end: number;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const message = JSON.parse(buffer.slice(0, end)) as {
          progress?: string;
          done?: FailoverSummary;
          error?: string;
        };
        buffer = buffer.slice(end + 1);
        if (message.progress !== undefined) {
          log(message.progress);
        } else if (message.done) {
          const done = message.done;
          settle(() => resolve(done));
        } else {
          settle(() => reject(new Error(`failover failed: ${message.error ?? 'no reason given'}`)));
        }
      }
    });
    socket.on('error', (error) =>
      settle(() => reject(new Error(`cannot reach the supervisor: ${error.message}`))),
    );
    socket.on('close', () =>
      settle(() => reject(new Error('the supervisor closed the connection without an answer'))),
    );
  });
}
