import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { LogSink } from './log-sink';
import { seconds } from './output';
import { childEnv, signalProcessTree } from './processes';
import { sleep, until } from './probes';
import type { ComponentKind, ComponentState } from './state';

export interface SpawnSpec {
  cmd: string;
  args: string[];
  /** the component's own environment; `childEnv` adds only the system variables and the marker */
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
  cwd?: string;
}

/**
 * One row of the stack's component table: how to run a process, how to tell it is healthy, and
 * how to stop it. The group below does the rest the same way for every kind.
 */
export interface Component {
  name: string;
  kind: ComponentKind;
  role: string;
  port: number;
  /** restarted after a crash (with backoff), or left down for a look at its log */
  restartable: boolean;
  /** the signal that makes it stop cleanly */
  stopSignal: NodeJS.Signals;
  /** components stop in ascending rank: what serves before what it depends on */
  stopRank: number;
  /** before every launch (the first and each restart): its config files, stale pid files */
  prepare?: () => void;
  /** read at every launch, so a component whose role changed (a failover) runs as its new self */
  command: () => SpawnSpec;
  /** healthy when this holds */
  probe: () => Promise<boolean>;
  /** how long a start (or restart) may take to become healthy */
  startTimeoutMs: number;
  /** what "healthy" means, for the progress line */
  ready?: string;
}

export interface RestartPolicy {
  /** restarts of a crash-looping process before the group gives up on it */
  maxRestarts: number;
  /** the first restart's delay; each next one doubles it */
  firstDelayMs: number;
  /** a process that ran this long before crashing starts a new series of restarts */
  resetAfterMs: number;
  /** how long a process may take to stop cleanly before it and its tree are killed */
  stopGraceMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxRestarts: 5,
  firstDelayMs: 500,
  resetAfterMs: 60_000,
  stopGraceMs: 15_000,
};

export interface ProcessGroupOptions {
  logs: LogSink;
  /**
   * Foreground: output piped through the log sink. Otherwise each process writes straight into
   * its log file, so that the logs survive the supervisor and it copies no bytes under load.
   */
  echo: boolean;
  note: (message: string) => void;
  /** a component's state changed (pid, health, restarts) */
  changed: () => void;
  /** a component exited and will not be restarted */
  gaveUp: (name: string, why: string) => void;
  policy?: RestartPolicy;
}

interface Child {
  component: Component;
  state: ComponentState;
  proc?: ChildProcess;
  launchedAt?: number;
  /** set when the child exited and will not be restarted: why */
  gaveUp?: string;
  /** stopped on purpose (a failover's fence): its exit is no crash */
  fenced?: boolean;
}

/** The start error that names the component it is about. */
export class ComponentError extends Error {
  constructor(
    readonly component: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The processes of a stack, whatever their kind: start one and wait for its probe, restart a
 * crashed one with backoff and watch it become healthy again, give up on a crash loop, stop
 * everything in rank order with a grace period and then SIGKILL of the whole process tree.
 */
export class ProcessGroup {
  private readonly children: Child[] = [];
  private stopping = false;
  private readonly policy: RestartPolicy;

  constructor(private readonly options: ProcessGroupOptions) {
    this.policy = options.policy ?? DEFAULT_RESTART_POLICY;
  }

  states(): ComponentState[] {
    return this.children.map((c) => ({ ...c.state }));
  }

  /** Launch a component and wait until its probe holds; a ComponentError if it does not. */
  async start(component: Component): Promise<void> {
    const child: Child = {
      component,
      state: {
        name: component.name,
        kind: component.kind,
        role: component.role,
        port: component.port,
        healthy: false,
        restarts: 0,
      },
    };
    this.children.push(child);
    this.launch(child);
    await this.waitFor(component.name, component.probe, component.startTimeoutMs, component.ready);
  }

  /**
   * Wait for `probe` about the component `name` (its own probe, or a further condition such as
   * a replica streaming); ends early if the component gives up or the group stops.
   */
  async waitFor(
    name: string,
    probe: () => Promise<boolean>,
    timeoutMs: number,
    what = 'healthy',
  ): Promise<void> {
    const child = this.children.find((c) => c.state.name === name);
    const t0 = Date.now();
    const ok = await until(probe, timeoutMs, {
      abort: () => (this.stopping ? 'stopping' : child?.gaveUp),
    }).catch((error: unknown) => {
      throw new ComponentError(name, error instanceof Error ? error.message : String(error));
    });
    if (!ok) {
      throw new ComponentError(
        name,
        `${name} was not ${what} within ${seconds(timeoutMs)} (see ${this.options.logs.file(name)})`,
      );
    }
    if (child) {
      child.state.healthy = true;
      this.options.changed();
    }
    this.options.note(`${name} ${what} (${seconds(Date.now() - t0)})`);
  }

  /**
   * Stop a component on purpose (`kill`: SIGKILL to its whole tree, as a crash would); its exit
   * is not restarted until `relaunch`. Says what it did.
   */
  async fence(name: string, how: 'stop' | 'kill'): Promise<'was down' | 'stopped' | 'killed'> {
    const child = this.child(name);
    child.fenced = true;
    const running = child.proc?.exitCode === null && child.proc.signalCode === null;
    if (!running) {
      return 'was down';
    }
    await this.kill(child, how === 'kill' ? 'SIGKILL' : undefined);
    return how === 'kill' ? 'killed' : 'stopped';
  }

  /** Run a stopped (fenced or given-up) component again, as new: restarts and failure cleared. */
  relaunch(name: string, role?: string): void {
    const child = this.child(name);
    child.fenced = false;
    child.gaveUp = undefined;
    child.state.restarts = 0;
    if (role !== undefined) {
      child.state.role = role;
    }
    this.launch(child);
  }

  setRole(name: string, role: string): void {
    const child = this.children.find((c) => c.state.name === name);
    if (child) {
      child.state.role = role;
    }
  }

  /** Stop everything: ascending stop rank, each rank in parallel. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const ranks = [...new Set(this.children.map((c) => c.component.stopRank))].sort(
      (a, b) => a - b,
    );
    for (const rank of ranks) {
      await Promise.all(
        this.children.filter((c) => c.component.stopRank === rank).map((c) => this.kill(c)),
      );
    }
  }

  private child(name: string): Child {
    const child = this.children.find((c) => c.state.name === name);
    if (!child) {
      throw new Error(`${name} was not started by this supervisor`);
    }
    return child;
  }

  private launch(child: Child): void {
    const c = child.component;
    c.prepare?.();
    const s = c.command();
    const fd = this.options.echo ? undefined : openSync(this.options.logs.file(c.name), 'a');
    // detached: its own process group, so a Ctrl-C in the terminal reaches only the supervisor,
    // which then stops everything in order.
    const proc = spawn(s.cmd, s.args, {
      env: childEnv(process.env, s.env),
      uid: s.uid,
      gid: s.gid,
      cwd: s.cwd,
      detached: true,
      stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    });
    if (fd !== undefined) {
      closeSync(fd);
    }
    child.proc = proc;
    child.launchedAt = Date.now();
    child.state.pid = proc.pid;
    if (fd === undefined) {
      this.options.logs.capture(c.name, proc);
    }
    proc.on('error', (error) => {
      this.options.note(`${c.name}: could not start ${s.cmd}: ${error.message}`);
    });
    proc.on('exit', (code, signal) => void this.onExit(child, proc, code, signal));
    this.options.changed();
  }

  private async onExit(
    child: Child,
    proc: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): Promise<void> {
    if (child.proc !== proc) {
      return;
    }
    child.state.healthy = false;
    child.state.pid = undefined;
    this.options.changed();
    if (this.stopping || child.fenced) {
      return;
    }
    const how = signal ? `signal ${signal}` : `code ${code}`;
    const { name } = child.state;
    const { restartable } = child.component;
    const p = this.policy;
    // A process that ran for a while before crashing starts a new series of quick restarts;
    // only a crash loop exhausts them.
    if (Date.now() - (child.launchedAt ?? 0) > p.resetAfterMs) {
      child.state.restarts = 0;
    }
    if (!restartable || child.state.restarts >= p.maxRestarts) {
      child.gaveUp =
        `${name} exited (${how})${restartable ? ` after ${p.maxRestarts} restarts` : ''}; ` +
        `see ${this.options.logs.file(name)}`;
      this.options.note(child.gaveUp);
      this.options.gaveUp(name, child.gaveUp);
      return;
    }
    child.state.restarts++;
    const delay = p.firstDelayMs * 2 ** (child.state.restarts - 1);
    this.options.note(
      `${name} exited (${how}): restart ${child.state.restarts}/${p.maxRestarts} in ${delay} ms`,
    );
    await sleep(delay);
    if (this.stopping || child.fenced) {
      return;
    }
    try {
      this.launch(child);
    } catch (error) {
      // Its prepare step failed (a config that no longer renders, a binary gone): a look is due.
      child.gaveUp = `${name} could not be restarted: ${(error as Error).message}`;
      this.options.note(child.gaveUp);
      this.options.gaveUp(name, child.gaveUp);
      return;
    }
    // After a restart the process is healthy again only once its probe says so.
    void this.rewatch(child);
  }

  /** Mark a restarted child healthy once its own probe passes again. */
  private async rewatch(child: Child): Promise<void> {
    const proc = child.proc;
    const healthy = await until(child.component.probe, child.component.startTimeoutMs, {
      intervalMs: 250,
      // Stop watching when the group stops or this launch has been replaced by another.
      abort: () => (this.stopping || child.proc !== proc ? 'done' : undefined),
    }).catch(() => false);
    if (healthy) {
      child.state.healthy = true;
      this.options.changed();
      this.options.note(`${child.state.name} healthy again`);
    }
  }

  /** Stop a child with its clean-stop signal (or `signal`, sent to its whole process tree). */
  private async kill(child: Child, signal?: NodeJS.Signals): Promise<void> {
    const proc = child.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) {
      return;
    }
    const pid = proc.pid;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (signal) {
      // A hung (SIGSTOPped) postmaster and its backends: SIGKILL reaches stopped processes too.
      signalProcessTree(pid, signal);
    } else {
      proc.kill(child.component.stopSignal);
    }
    const timer = setTimeout(() => {
      this.options.note(
        `${child.state.name} did not stop in ${seconds(this.policy.stopGraceMs)}: SIGKILL`,
      );
      // The whole tree: a postmaster's backends (each in its own session) must not outlive it.
      signalProcessTree(pid, 'SIGKILL');
    }, this.policy.stopGraceMs);
    await exited;
    clearTimeout(timer);
  }
}
