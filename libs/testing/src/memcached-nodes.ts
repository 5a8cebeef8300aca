import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { freePort, memcachedArgs, memcachedVersion } from '@murmur/stack';
import { waitFor } from './wait-for';

/** Memcached nodes a test (or the bench) starts itself, on free ports, and can kill one of. */
export interface MemcachedNodes {
  /** `127.0.0.1:<port>` of each node, in start order */
  servers: string[];
  /** SIGKILL node `i`: a crash, its entries lost */
  kill(i: number): Promise<void>;
  /** start node `i` again on its port (empty) */
  restart(i: number): Promise<void>;
  /**
   * SIGSTOP node `i`: a hung node, which keeps its entries and its connections. Resolves once the
   * kernel shows it stopped: `kill` returns before a busy process has stopped, and a request sent
   * in that gap would still be answered.
   */
  pause(i: number): Promise<void>;
  /** SIGCONT node `i` */
  resume(i: number): void;
  stop(): Promise<void>;
}

/** Start `count` memcached processes of `memoryMb` each and wait until each answers. */
export async function startMemcachedNodes(count: number, memoryMb = 64): Promise<MemcachedNodes> {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const procs: Array<ChildProcess | undefined> = [];
  const start = async (i: number): Promise<void> => {
    const port = ports[i];
    const child = spawn('memcached', memcachedArgs({ port, memoryMb }), { stdio: 'ignore' });
    child.on('error', () => undefined); // reported by the wait below (not found, port taken)
    procs[i] = child;
    await waitFor(() => memcachedVersion(port, 500).then((ok) => (ok ? true : undefined)), {
      timeoutMs: 5_000,
      what: `memcached on ${port} (is it installed? apt-get install memcached)`,
    });
  };
  const kill = async (i: number): Promise<void> => {
    const child = procs[i];
    procs[i] = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  };
  await Promise.all(ports.map((_, i) => start(i)));
  return {
    servers: ports.map((p) => `127.0.0.1:${p}`),
    kill,
    restart: start,
    pause: async (i) => {
      const child = procs[i];
      if (!child?.pid) {
        throw new Error(`memcached node ${i} is not running`);
      }
      child.kill('SIGSTOP');
      await waitFor(
        () => processState(child.pid as number).then((s) => (s === 'T' ? true : undefined)),
        {
          timeoutMs: 2_000,
          what: `memcached node ${i} stopped`,
        },
      );
    },
    resume: (i) => procs[i]?.kill('SIGCONT'),
    stop: async () => {
      await Promise.all(ports.map((_, i) => kill(i)));
    },
  };
}

/** The state letter of `/proc/<pid>/stat` (R running, S sleeping, T stopped, …). */
async function processState(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // the command name is in parentheses and may hold spaces: the state follows the last ')'
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || undefined;
}
