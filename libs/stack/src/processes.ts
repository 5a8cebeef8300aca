import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { sleep } from './probes';

/**
 * Every process the stack starts carries this variable, set to its state directory, or works in a
 * directory inside it. `down` finds what a dead supervisor left behind by these (Linux /proc), and
 * never touches anything else: not the system Postgres, not another profile's stack, not a
 * process that reused a recorded pid.
 */
export const STACK_MARKER = 'MURMUR_STACK_DIR';

export function alive(pid: number | undefined): boolean {
  if (!pid) {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else (a postgres child when we are not root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Node 24 from node_modules when present (the project's runtime), else the one running us. */
export function nodeBinary(root: string): string {
  const local = path.join(root, 'node_modules', '.bin', 'node');
  return existsSync(local) ? local : process.execPath;
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

export const hasProc = (): boolean => existsSync('/proc/self/environ');

/** Is `pid` a stack CLI process (guards against a recorded pid that the OS gave to another program)? */
export function isStackCli(pid: number | undefined): boolean {
  if (!alive(pid)) {
    return false;
  }
  if (!hasProc()) {
    return true;
  }
  const cmdline = readProc(pid as number, 'cmdline');
  return cmdline === undefined || cmdline.includes(path.join('libs', 'stack', 'src', 'cli'));
}

export interface StackProcess {
  pid: number;
  ppid: number;
  command: string;
}

/** Process titles of the servers the stack starts (Postgres backends retitle themselves). */
const SERVER_TITLE = /^(redis-server |nginx: |postgres: |\S*\/postgres -D |\S*memcached )/;

function cwdOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/**
 * Processes (other than us) started by the stack in `stateDir`. Node keeps its environment, but
 * Redis, NGINX and Postgres backends write their process titles over it; those run in a directory
 * of the stack instead (their data directory, or the one we start them in).
 */
export function findStackProcesses(stateDir: string): StackProcess[] {
  if (!hasProc()) {
    return [];
  }
  const marker = `${STACK_MARKER}=${stateDir}`;
  const realDir = existsSync(stateDir) ? realpathSync(stateDir) : stateDir;
  const found: StackProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) {
      continue;
    }
    const command = (readProc(pid, 'cmdline') ?? '').split('\0').join(' ').trim();
    const marked = readProc(pid, 'environ')?.split('\0').includes(marker) ?? false;
    // By directory only the servers we start: a shell or `tail -f` in the logs is the user's.
    const inside =
      !marked &&
      SERVER_TITLE.test(command) &&
      `${cwdOf(pid) ?? ''}${path.sep}`.startsWith(`${realDir}${path.sep}`);
    if (!marked && !inside) {
      continue;
    }
    const stat = readProc(pid, 'stat') ?? '';
    // The command name in stat is in parentheses and may contain spaces: parse after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    found.push({ pid, ppid, command });
  }
  return found;
}

/** The signal that makes each kind of process shut down cleanly (and quickly). */
export function stopSignalFor(command: string): NodeJS.Signals {
  const program = path.basename(command.split(' ')[0] ?? '');
  if (program === 'postgres') {
    return 'SIGINT'; // fast shutdown: roll back sessions, checkpoint, exit
  }
  if (program === 'nginx' || command.startsWith('nginx: master')) {
    return 'SIGQUIT'; // graceful: finish requests in flight
  }
  return 'SIGTERM';
}

/** `pid` and every process below it (Linux /proc; without it, `pid` alone). */
export function processTree(pid: number): number[] {
  if (!hasProc()) {
    return [pid];
  }
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (Number.isInteger(child)) {
      const stat = readProc(child, 'stat') ?? '';
      parentOf.set(child, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parentOf) {
      if (parent === tree[i]) {
        tree.push(child);
      }
    }
  }
  return tree;
}

/**
 * Signal a process and everything below it. Not its process group: Postgres backends each call
 * setsid(), so a SIGSTOP or SIGKILL of the postmaster's group reaches the postmaster alone, and
 * its backends would go on answering (or, stopped, hold their connections open for ever).
 */
export function signalProcessTree(pid: number, sig: NodeJS.Signals): void {
  for (const p of processTree(pid)) {
    signal(p, sig);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/**
 * Stop every process of the stack in `stateDir`: the top of each process tree gets its clean-stop
 * signal (a postmaster stops its backends itself), then whatever is still there after `graceMs`
 * is killed. Resolves with the number of process trees found.
 */
export async function killStackProcesses(stateDir: string, graceMs = 10_000): Promise<number> {
  const found = findStackProcesses(stateDir);
  if (found.length === 0) {
    return 0;
  }
  const pids = new Set(found.map((p) => p.pid));
  const tops = found.filter((f) => !pids.has(f.ppid));
  for (const p of tops) {
    signal(p.pid, stopSignalFor(p.command));
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && findStackProcesses(stateDir).length > 0) {
    await sleep(100);
  }
  for (const p of findStackProcesses(stateDir)) {
    signal(p.pid, 'SIGKILL');
  }
  // Count what a user would: a postmaster with its backends is one process.
  return tops.length;
}

/** What a process needs of the caller's environment to run at all; nothing else is passed on. */
const SYSTEM_VARIABLES = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

/**
 * The whole environment of a process the stack starts: the system variables above, the stack's
 * marker (how `down` finds strays) and `own` (what the component is configured with). The rest of
 * the caller's environment (a stray DATABASE_URL, a NODE_OPTIONS, a secret) never arrives.
 */
export function childEnv(
  caller: NodeJS.ProcessEnv,
  own: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...SYSTEM_VARIABLES, STACK_MARKER]) {
    const value = caller[name];
    if (typeof value === 'string') {
      env[name] = value;
    }
  }
  return { ...env, ...own };
}
