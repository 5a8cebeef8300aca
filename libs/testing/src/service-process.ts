import { spawn } from 'node:child_process';
import path from 'node:path';
import { serviceEntry, serviceEnv, type ServiceProcess } from '@murmur/stack';
import { ApiClient } from './api-client';
import { freePort } from './free-port';
import { REPO_ROOT, testTopology } from './stack-fixture';
import { waitFor } from './wait-for';

/**
 * What a process needs of the caller's environment to run at all, as `childEnv` in
 * libs/stack/src/processes.ts passes it: nothing else of the test runner's environment arrives.
 */
const SYSTEM_VARIABLES = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];
/**
 * The stack's marker (STACK_MARKER in libs/stack/src/processes.ts): a process left behind by a
 * test runner that died is stopped by the test stack's teardown and by its next start.
 */
const STACK_MARKER = 'MURMUR_STACK_DIR';
/** How much of the process's output is kept for a failure's message. */
const OUTPUT_KEPT = 32 * 1024;

export interface ServiceProcessOptions {
  service: ServiceProcess['service'];
  entry?: ServiceProcess['entry'];
  /** INSTANCE_NAME: distinct from the stack's own (`user-1`, `post-2`, …) */
  name: string;
  /**
   * Set on top of the environment the test stack gives its own process of this service;
   * `undefined` removes a variable, so the process falls back to its config schema's default.
   */
  env?: Record<string, string | undefined>;
  readyTimeoutMs?: number;
}

export interface StartedServiceProcess {
  name: string;
  pid: number;
  port: number;
  grpcPort?: number;
  /** an API client talking to this process directly (not through NGINX) */
  api: ApiClient;
  /** the environment it was started with */
  env: Readonly<Record<string, string>>;
  /** the tail of what it wrote to stdout and stderr */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Harmless twice. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Start one more process of a service next to the running test stack, from `dist/` like the
 * stack's own, with the environment of the stack's first process of that service (same
 * databases and Redis) on free ports, plus `env`. Resolves once `/health/ready` answers 200;
 * rejects, with the process's output, if it exits or is not ready in time.
 */
export async function startServiceProcess(
  options: ServiceProcessOptions,
): Promise<StartedServiceProcess> {
  const t = testTopology();
  const entry = options.entry ?? 'main';
  const template = t.services.find((s) => s.service === options.service && s.entry === entry);
  if (!template) {
    throw new Error(`the test stack has no ${options.service} ${entry} process`);
  }
  const port = await freePort();
  const grpcPort = template.grpcPort === undefined ? undefined : await freePort();
  const own: Record<string, string> = {
    INSTANCE_NAME: options.name,
    PORT: String(port),
    ...(grpcPort === undefined ? {} : { GRPC_PORT: String(grpcPort) }),
  };
  const env: Record<string, string> = { [STACK_MARKER]: t.stateDir };
  for (const name of SYSTEM_VARIABLES) {
    const value = process.env[name];
    if (typeof value === 'string') {
      env[name] = value;
    }
  }
  Object.assign(env, serviceEnv(t, template, { extra: own }));
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) {
      delete env[name];
    } else {
      env[name] = value;
    }
  }

  const child = spawn(process.execPath, [path.join(REPO_ROOT, serviceEntry(template))], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  child.on('error', (error) => keep(Buffer.from(`spawn failed: ${error.message}\n`)));

  const stop = async (graceMs = 10_000): Promise<void> => {
    if (hasExited() || child.pid === undefined) {
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  const url = `http://127.0.0.1:${port}`;
  const outcome = await waitFor(
    async () => {
      if (hasExited()) {
        return 'exited';
      }
      const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return res.status === 200 ? 'ready' : undefined;
    },
    { timeoutMs: options.readyTimeoutMs ?? 60_000, intervalMs: 100, what: `${options.name} ready` },
  ).catch(async (error: Error) => {
    await stop(0);
    throw new Error(`${error.message}; its output:\n${output}`);
  });
  if (outcome === 'exited') {
    throw new Error(
      `${options.name} exited (${child.exitCode ?? child.signalCode}) before it was ready; its output:\n${output}`,
    );
  }
  return {
    name: options.name,
    pid: child.pid as number,
    port,
    grpcPort,
    api: new ApiClient(url),
    env,
    output: () => output,
    stop,
  };
}
