import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Topology } from './topology';

export interface ComponentState {
  name: string;
  role: string;
  port: number;
  pid?: number;
  kind: 'postgres' | 'redis' | 'service' | 'nginx';
  healthy: boolean;
}

/** What the supervisor publishes for `up`, `status` and `down` (and for cleanup after a crash). */
export interface StackState {
  supervisorPid: number;
  profile: string;
  ready: boolean;
  failed?: string;
  error?: string;
  startedAt: number;
  readyAt?: number;
  components: ComponentState[];
}

const file = (t: Topology): string => path.join(t.stateDir, 'state.json');

export function writeState(t: Topology, state: StackState): void {
  const tmp = `${file(t)}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, file(t));
}

export function readState(t: Topology): StackState | undefined {
  if (!existsSync(file(t))) {
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(file(t), 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

export function alive(pid: number | undefined): boolean {
  if (!pid) {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
