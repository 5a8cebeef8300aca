import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, STRAY_VARIABLE, waitFor } from '@murmur/testing';
import { LogSink } from './log-sink';
import { type Component, ComponentError, ProcessGroup, type RestartPolicy } from './process-group';
import { processTree } from './processes';
import { httpOk } from './probes';

/**
 * The generic half of the supervisor, on real (tiny) processes: a Node HTTP server per component
 * whose behaviour the test steers through files. Each answers GET / with its environment.
 *
 * - `crash` file present: exits with code 3 as soon as it starts (a crash loop);
 * - `stubborn`: ignores SIGTERM, and forks a child that ignores it too;
 * - `slow-stop`: on SIGTERM, waits 300 ms before exiting;
 * every stop appends `<name> <epoch ms>` to `stops`.
 */
const SERVER = `
const fs = require('node:fs');
const http = require('node:http');
const [dir, name, port, mode] = process.argv.slice(1);
if (fs.existsSync(dir + '/crash')) process.exit(3);
const stopped = () => fs.appendFileSync(dir + '/stops', name + ' ' + Date.now() + '\\n');
if (mode === 'stubborn') {
  process.on('SIGTERM', () => undefined);
  require('node:child_process').spawn(process.execPath, ['-e', "process.on('SIGTERM', () => undefined); setInterval(() => undefined, 1000)"], { stdio: 'ignore' });
} else {
  process.on('SIGTERM', () => { stopped(); setTimeout(() => process.exit(0), mode === 'slow-stop' ? 300 : 0); });
}
http.createServer((q, s) => s.end(JSON.stringify(process.env))).listen(Number(port), '127.0.0.1');
`;

/** Gone, or a zombie nobody has reaped yet (it runs no code and holds no port). */
const gone = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
};

const FAST: RestartPolicy = {
  maxRestarts: 2,
  firstDelayMs: 50,
  resetAfterMs: 60_000,
  stopGraceMs: 500,
};

describe('ProcessGroup: start, restart, give up, stop — the same for every component', () => {
  let dir: string;
  let group: ProcessGroup;
  let notes: string[];
  let gaveUp: Array<{ name: string; why: string }>;

  const component = async (
    name: string,
    overrides: Partial<Component> & { mode?: string } = {},
  ): Promise<Component> => {
    const port = await freePort();
    return {
      name,
      kind: 'service',
      role: 'test',
      port,
      restartable: true,
      stopSignal: 'SIGTERM',
      stopRank: 0,
      command: () => ({
        cmd: process.execPath,
        args: ['-e', SERVER, dir, name, String(port), overrides.mode ?? ''],
        env: { OWN_SETTING: `of ${name}` },
      }),
      probe: () => httpOk(`http://127.0.0.1:${port}/`),
      startTimeoutMs: 10_000,
      ...overrides,
    };
  };
  const pidOf = (name: string): number | undefined =>
    group.states().find((s) => s.name === name)?.pid;
  const state = (name: string) => group.states().find((s) => s.name === name);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'process-group-'));
    notes = [];
    gaveUp = [];
    group = new ProcessGroup({
      logs: new LogSink(dir, false, 10, false),
      echo: false,
      note: (m) => notes.push(m),
      changed: () => undefined,
      gaveUp: (name, why) => gaveUp.push({ name, why }),
      policy: FAST,
    });
  });

  afterEach(async () => {
    await group.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a component, waits for its probe, and gives it only its own environment', async () => {
    process.env[STRAY_VARIABLE] = 'must not arrive';
    try {
      const c = await component('api');
      await group.start(c);
      expect(state('api')).toMatchObject({ healthy: true, restarts: 0, kind: 'service' });
      const res = await fetch(`http://127.0.0.1:${c.port}/`);
      const env = (await res.json()) as Record<string, string>;
      expect(env.OWN_SETTING).toBe('of api');
      expect(env[STRAY_VARIABLE]).toBeUndefined();
      expect(env.PATH).toBe(process.env.PATH);
    } finally {
      delete process.env[STRAY_VARIABLE];
    }
  });

  it('restarts a crashed process with a doubling delay, and marks it healthy again only once its probe holds', async () => {
    await group.start(await component('api'));
    const first = pidOf('api') as number;
    process.kill(first, 'SIGKILL');
    await waitFor(
      () => Promise.resolve(state('api')?.healthy && pidOf('api') !== first ? true : undefined),
      {
        timeoutMs: 10_000,
        what: 'api healthy again',
      },
    );
    expect(state('api')?.restarts).toBe(1);
    const second = pidOf('api') as number;
    process.kill(second, 'SIGKILL');
    await waitFor(
      () =>
        Promise.resolve(state('api')?.restarts === 2 && state('api')?.healthy ? true : undefined),
      {
        timeoutMs: 10_000,
        what: 'second restart healthy',
      },
    );
    expect(notes.filter((n) => n.includes('exited (signal SIGKILL): restart'))).toEqual([
      'api exited (signal SIGKILL): restart 1/2 in 50 ms',
      'api exited (signal SIGKILL): restart 2/2 in 100 ms',
    ]);
    expect(notes.filter((n) => n === 'api healthy again')).toHaveLength(2);
    expect(gaveUp).toEqual([]);
  });

  it('gives up on a crash loop after the policy’s restarts, and says why and where to look', async () => {
    await group.start(await component('api'));
    writeFileSync(path.join(dir, 'crash'), '');
    process.kill(pidOf('api') as number, 'SIGKILL');
    const [why] = await waitFor(() => Promise.resolve(gaveUp.length > 0 ? gaveUp : undefined), {
      timeoutMs: 10_000,
      what: 'the group to give up',
    });
    expect(why.name).toBe('api');
    expect(why.why).toBe(`api exited (code 3) after 2 restarts; see ${path.join(dir, 'api.log')}`);
    expect(state('api')).toMatchObject({ healthy: false, pid: undefined, restarts: 2 });
  });

  it('does not restart a component that is not restartable', async () => {
    await group.start(await component('db', { restartable: false }));
    process.kill(pidOf('db') as number, 'SIGKILL');
    await waitFor(() => Promise.resolve(gaveUp.length > 0 ? true : undefined), { what: 'give up' });
    expect(gaveUp[0].why).toMatch(/^db exited \(signal SIGKILL\); see /);
    expect(state('db')?.restarts).toBe(0);
  });

  it('fails a start by name as soon as the process gives up, not at the end of its timeout', async () => {
    writeFileSync(path.join(dir, 'crash'), '');
    const c = await component('db', { restartable: false, startTimeoutMs: 30_000 });
    const t0 = Date.now();
    const failure = await group.start(c).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ComponentError);
    expect((failure as ComponentError).component).toBe('db');
    expect((failure as Error).message).toMatch(/^db exited \(code 3\)/);
    expect(Date.now() - t0).toBeLessThan(c.startTimeoutMs);
  });

  it('fails a start by name when the probe does not hold in time', async () => {
    const c = await component('api', { probe: () => Promise.resolve(false), startTimeoutMs: 500 });
    await expect(group.start(c)).rejects.toThrow(
      `api was not healthy within 0.5 s (see ${path.join(dir, 'api.log')})`,
    );
  });

  it('stops in ascending rank: a rank starts stopping only when the one before has exited', async () => {
    await Promise.all([
      component('edge', { stopRank: 0, mode: 'slow-stop' }).then((c) => group.start(c)),
      component('svc-1', { stopRank: 1 }).then((c) => group.start(c)),
      component('svc-2', { stopRank: 1 }).then((c) => group.start(c)),
      component('store', { stopRank: 2 }).then((c) => group.start(c)),
    ]);
    await group.stopAll();
    const stops = new Map(
      readFileSync(path.join(dir, 'stops'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.split(' ')[0], Number(l.split(' ')[1])]),
    );
    expect([...stops.keys()].sort()).toEqual(['edge', 'store', 'svc-1', 'svc-2']);
    // The edge took 300 ms to exit after its signal; the services got theirs after that.
    expect(stops.get('svc-1')).toBeGreaterThanOrEqual((stops.get('edge') as number) + 250);
    expect(stops.get('svc-2')).toBeGreaterThanOrEqual((stops.get('edge') as number) + 250);
    expect(stops.get('store')).toBeGreaterThanOrEqual(
      Math.max(stops.get('svc-1') as number, stops.get('svc-2') as number),
    );
    expect(group.states().every((s) => s.pid === undefined && !s.healthy)).toBe(true);
  });

  it('kills a process that ignores its stop signal, and its children, after the grace period', async () => {
    await group.start(await component('stuck', { mode: 'stubborn' }));
    const pid = pidOf('stuck') as number;
    const tree = await waitFor(
      () => {
        const t = processTree(pid);
        return Promise.resolve(t.length >= 2 ? t : undefined);
      },
      { what: 'the stubborn child' },
    );
    await group.stopAll();
    expect(notes).toContain('stuck did not stop in 0.5 s: SIGKILL');
    await waitFor(() => Promise.resolve(tree.every(gone) ? true : undefined), {
      what: 'the whole tree gone',
    });
    expect(existsSync(path.join(dir, 'stops'))).toBe(false);
  });

  it('does not restart a fenced process; relaunch runs it again as new', async () => {
    const c = await component('replica');
    await group.start(c);
    expect(await group.fence('replica', 'kill')).toBe('killed');
    expect(await group.fence('replica', 'stop')).toBe('was down');
    expect(state('replica')?.pid).toBeUndefined();
    group.relaunch('replica', 'primary');
    await group.waitFor('replica', c.probe, 10_000);
    expect(state('replica')).toMatchObject({ role: 'primary', healthy: true, restarts: 0 });
    expect(notes.some((n) => n.includes('restart'))).toBe(false);
  });
});
