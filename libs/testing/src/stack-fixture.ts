import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildTopology, pgIdentity, type Topology } from '@murmur/stack';
import { Client } from 'pg';
import { sumSamples } from '@murmur/observability';
import { ApiClient } from './api-client';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
/** The test receiver's port; the test stack's services export OTLP here. */
export const TEST_OTLP_PORT = 14318;
export const TEST_OTLP_ENDPOINT = `http://127.0.0.1:${TEST_OTLP_PORT}`;

/** Set in the test setup's environment, which starts the stack: no stack process may see it. */
export const STRAY_VARIABLE = 'MURMUR_TEST_STRAY_VARIABLE';

export function testTopology(): Topology {
  return buildTopology({ profile: 'test', root: REPO_ROOT });
}

export function edgeApi(): ApiClient {
  return new ApiClient(`http://127.0.0.1:${testTopology().nginx.port}`);
}

/** The superuser initdb created: `postgres` when the stack runs as root, else the current user. */
export function superuser(): string {
  return pgIdentity().superuser;
}

/** Run `fn` with a superuser connection to one Postgres node of the test stack. */
export async function withPostgres<T>(
  nodeName: string,
  database: string,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const node = testTopology().postgres.find((n) => n.name === nodeName);
  if (!node) {
    throw new Error(`no postgres node ${nodeName}`);
  }
  const client = new Client({ host: '127.0.0.1', port: node.port, user: superuser(), database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Sum a metric's samples on one process (its HTTP port: a service or a worker), filtered by labels. */
export async function processMetric(
  port: number,
  metric: string,
  labels: Record<string, string | readonly string[]> = {},
): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return sumSamples(text, metric, labels);
}

/** Sum a Prometheus counter over every HTTP process of a service, filtered by labels. */
export async function sumMetric(
  service: string,
  metric: string,
  labels: Record<string, string>,
): Promise<number> {
  const procs = testTopology().services.filter((s) => s.service === service && s.entry === 'main');
  let total = 0;
  for (const p of procs) {
    total += await processMetric(p.port, metric, labels);
  }
  return total;
}

/** The pid of a test-stack component (`redis`, `redis-cache`, `post-1`, …) as the supervisor publishes it. */
export function componentPid(name: string): number {
  const state = JSON.parse(
    readFileSync(path.join(testTopology().stateDir, 'state.json'), 'utf8'),
  ) as { components: { name: string; pid?: number }[] };
  const pid = state.components.find((c) => c.name === name)?.pid;
  if (!pid) {
    throw new Error(`${name} has no pid in the test stack's state file`);
  }
  return pid;
}

/**
 * Freeze a component with SIGSTOP (not kill: the supervisor would restart a process that exits,
 * and a hung peer, connections open and no answers, is the worse case for a client). Returns the
 * function that thaws it; calling it twice is harmless.
 */
export function freezeComponent(name: string): () => void {
  const pid = componentPid(name);
  process.kill(pid, 'SIGSTOP');
  let frozen = true;
  return () => {
    if (frozen) {
      frozen = false;
      process.kill(pid, 'SIGCONT');
    }
  };
}
