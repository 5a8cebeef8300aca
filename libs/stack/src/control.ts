import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { httpOk, redisPing, sleep } from './probes';
import { pgReady, pgIdentity } from './postgres';
import { alive, type ComponentState, readState, type StackState } from './state';
import { buildTopology, serviceEnv, type StackProfile, type Topology } from './topology';

export interface StackOptions {
  profile?: StackProfile;
  root?: string;
  nginxPort?: number;
  fresh?: boolean;
  only?: 'infra';
  otlpEndpoint?: string;
  timeoutMs?: number;
  /** progress lines; default: stdout */
  log?: (line: string) => void;
}

export interface StackHandle {
  topology: Topology;
  state: StackState;
}

function topologyOf(o: StackOptions): Topology {
  return buildTopology({ profile: o.profile, root: o.root, nginxPort: o.nginxPort });
}

export function tail(file: string, lines = 30): string {
  if (!existsSync(file)) {
    return '(no log)';
  }
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export function isRunning(t: Topology): StackState | undefined {
  const state = readState(t);
  return state && alive(state.supervisorPid) ? state : undefined;
}

/** `stack:up`: start the supervisor in the background and return once everything is healthy. */
export async function startStack(options: StackOptions = {}): Promise<StackHandle> {
  const t = topologyOf(options);
  const log = options.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const running = isRunning(t);
  if (running && !options.fresh) {
    if (running.ready) {
      log(`stack (${t.profile}) already running`);
      return { topology: t, state: running };
    }
  }
  if (running || options.fresh) {
    await stopStack({ ...options, log: () => undefined });
  }
  if (options.fresh) {
    rmSync(t.stateDir, { recursive: true, force: true });
  }
  mkdirSync(t.logDir, { recursive: true });
  const out = openSync(path.join(t.logDir, 'supervisor.log'), 'a');
  // The compiled CLI, also when this module runs from source (Jest global setup).
  const cli = path.join(t.root, 'dist', 'libs', 'stack', 'src', 'cli.js');
  const args = [cli, 'supervise', '--profile', t.profile, '--port', String(t.nginx.port)];
  if (options.only) {
    args.push('--only', options.only);
  }
  if (options.otlpEndpoint) {
    args.push('--otlp', options.otlpEndpoint);
  }
  const child = spawn(process.execPath, args, {
    cwd: t.root,
    detached: true,
    stdio: ['ignore', out, out],
    env: process.env,
  });
  child.unref();
  closeSync(out);
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 150_000);
  let shown = 0;
  while (Date.now() < deadline) {
    await sleep(200);
    const state = readState(t);
    const healthy = state?.components.filter((c) => c.healthy).length ?? 0;
    if (healthy !== shown) {
      shown = healthy;
      log(`  ${healthy} components healthy (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    if (state?.ready && state.supervisorPid === child.pid) {
      return { topology: t, state };
    }
    if (state?.failed || !alive(child.pid)) {
      const failed = state?.failed ?? 'supervisor';
      const logFile = path.join(
        t.logDir,
        `${failed.includes(' ') || failed === 'migrations' ? 'supervisor' : failed}.log`,
      );
      await stopStack({ ...options, log: () => undefined });
      throw new Error(
        `stack failed at ${failed}: ${state?.error ?? ''}\n--- ${logFile} (tail) ---\n${tail(logFile)}\n--- supervisor.log (tail) ---\n${tail(path.join(t.logDir, 'supervisor.log'), 15)}`,
      );
    }
  }
  await stopStack({ ...options, log: () => undefined });
  throw new Error(
    `stack did not become healthy in time\n${tail(path.join(t.logDir, 'supervisor.log'))}`,
  );
}

/** `stack:down`: stop the supervisor (which stops everything in order), then anything left over. */
export async function stopStack(options: StackOptions = {}): Promise<{ stopped: number }> {
  const t = topologyOf(options);
  const log = options.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const state = readState(t);
  if (!state) {
    log(`stack (${t.profile}): nothing running`);
    return { stopped: 0 };
  }
  const pids = state.components.map((c) => c.pid).filter((p): p is number => alive(p));
  if (alive(state.supervisorPid)) {
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + 40_000;
    while (alive(state.supervisorPid) && Date.now() < deadline) {
      await sleep(100);
    }
  }
  // The supervisor may have died without cleaning up: stop what it recorded.
  let leftovers = 0;
  for (const pid of pids.filter(alive)) {
    leftovers++;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await sleep(leftovers > 0 ? 500 : 0);
  rmSync(path.join(t.stateDir, 'state.json'), { force: true });
  log(
    `stack (${t.profile}) stopped: ${pids.length} processes${leftovers ? `, ${leftovers} had to be killed` : ''}`,
  );
  return { stopped: pids.length };
}

export interface ComponentStatus {
  name: string;
  role: string;
  port: number;
  pid: number | null;
  healthy: boolean;
}

export async function stackStatus(options: StackOptions = {}): Promise<ComponentStatus[]> {
  const t = topologyOf(options);
  const state = readState(t);
  if (!state || !alive(state.supervisorPid)) {
    return [];
  }
  const superuser = pgIdentity().superuser;
  const probe = (c: ComponentState): Promise<boolean> => {
    if (!alive(c.pid)) {
      return Promise.resolve(false);
    }
    switch (c.kind) {
      case 'postgres':
        return pgReady(c.port, superuser);
      case 'redis':
        return redisPing(c.port);
      case 'nginx':
        return httpOk(`http://127.0.0.1:${c.port}/nginx/health`);
      default:
        return httpOk(`http://127.0.0.1:${c.port}/health/ready`);
    }
  };
  return Promise.all(
    state.components.map(async (c) => ({
      name: c.name,
      role: c.role,
      port: c.port,
      pid: c.pid ?? null,
      healthy: await probe(c),
    })),
  );
}

/** `npm run migrate`: apply migrations to the stack's databases. */
export function migrateStack(options: StackOptions = {}): Promise<number> {
  const t = topologyOf(options);
  const env = serviceEnv(t, t.services[0]);
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(t.root, 'dist', 'tools', 'migrate', 'main.js')],
      {
        cwd: t.root,
        env: { ...process.env, ...env },
        stdio: 'inherit',
      },
    );
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
