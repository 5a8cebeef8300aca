import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Topology } from './topology';

export type ComponentKind = 'postgres' | 'redis' | 'memcached' | 'service' | 'nginx';

export interface ComponentState {
  name: string;
  kind: ComponentKind;
  role: string;
  port: number;
  pid?: number;
  healthy: boolean;
  restarts: number;
}

/**
 * What the supervisor publishes in `<stateDir>/state.json` for `up`, `status`, `down` and the
 * test suite, and what `down` uses to clean up after a supervisor that died.
 */
export interface StackState {
  supervisorPid: number;
  profile: string;
  /** what was asked for: a running stack started differently is restarted by `up` */
  only?: 'infra';
  otlpEndpoint?: string;
  nginxPort: number;
  ready: boolean;
  /** the component (or phase) that failed, and why */
  failed?: string;
  error?: string;
  startedAt: number;
  readyAt?: number;
  components: ComponentState[];
}

export const stateFile = (t: Topology): string => path.join(t.stateDir, 'state.json');

export function writeState(t: Topology, state: StackState): void {
  // Write-then-rename: a reader polling the file never sees half of it.
  const tmp = `${stateFile(t)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, stateFile(t));
}

export function readState(t: Topology): StackState | undefined {
  if (!existsSync(stateFile(t))) {
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(stateFile(t), 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

export function removeState(t: Topology): void {
  rmSync(stateFile(t), { force: true });
}
