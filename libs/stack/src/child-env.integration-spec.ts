import { readFileSync } from 'node:fs';
import { REPO_ROOT, STRAY_VARIABLE } from '@murmur/testing';
import { STACK_MARKER } from './processes';
import { readState } from './state';
import { buildTopology } from './topology';

/**
 * The caller's environment stays with the caller: the test setup starts the stack with
 * STRAY_VARIABLE set, and no service or worker process of the running test stack has it. Read
 * from each process's own /proc/<pid>/environ, as the kernel gave it at exec. (Redis, Postgres and
 * NGINX write their process titles over that memory, so theirs cannot be read back; they are
 * spawned through the same `childEnv` as the services.)
 */
describe('what reaches the processes the stack starts', () => {
  const t = buildTopology({ profile: 'test', root: REPO_ROOT });
  const environ = (pid: number): Map<string, string> =>
    new Map(
      readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
  const components = (readState(t)?.components ?? []).filter((c) => c.pid !== undefined);

  it('the supervisor was given the stray variable', () => {
    const supervisor = readState(t)?.supervisorPid ?? 0;
    expect(environ(supervisor).has(STRAY_VARIABLE)).toBe(true);
  });

  it('no service or worker process has it; each has the stack marker', () => {
    const services = components.filter((c) => c.kind === 'service');
    expect(services.length).toBeGreaterThanOrEqual(8);
    for (const c of services) {
      const env = environ(c.pid as number);
      expect({ name: c.name, stray: env.get(STRAY_VARIABLE) }).toEqual({
        name: c.name,
        stray: undefined,
      });
      expect({ name: c.name, marker: env.get(STACK_MARKER) }).toEqual({
        name: c.name,
        marker: t.stateDir,
      });
    }
  });

  it('a service has what it is configured with', () => {
    const service = components.find((c) => c.kind === 'service' && c.name.startsWith('post'));
    const env = environ(service?.pid as number);
    expect(env.get('SERVICE_NAME')).toBe('post');
    expect(env.get('DATABASE_URL')).toMatch(/^postgres(ql)?:\/\/.*127\.0\.0\.1:2\d{4}\//);
  });
});
