/**
 * The faults, one at a time, against the local stack's own processes (loopback only): each is
 * injected, held for a while under the load, and healed — by the stack itself (the supervisor
 * restarts a killed service, NGINX or Redis), by a signal (SIGCONT), or by a failover.
 */
import { execFileSync } from 'node:child_process';
import { DERIVED_KEYS } from '@murmur/contracts';
import { failoverStack, runningStack, type Topology } from '@murmur/stack';
import { Redis } from 'ioredis';

export interface Fault {
  name: string;
  /** what it does, for the report */
  what: string;
  inject(): Promise<void>;
  /** undo it after the hold (nothing for a crash: the stack heals itself) */
  heal?(): Promise<void>;
}

function pidOf(t: Topology, name: string): number {
  const pid = runningStack(t)?.components.find((c) => c.name === name)?.pid;
  if (pid === undefined) {
    throw new Error(`${name} is not running (no pid in the stack state)`);
  }
  return pid;
}

const signal = (t: Topology, name: string, sig: NodeJS.Signals) => (): Promise<void> => {
  process.kill(pidOf(t, name), sig);
  return Promise.resolve();
};

export function faultsFor(t: Topology, log: (line: string) => void): Fault[] {
  const dataRedis = t.redis.find((r) => r.purpose === 'queue');
  const cacheRedis = t.redis.find((r) => r.purpose === 'cache');
  if (!dataRedis || !cacheRedis) {
    throw new Error('the topology has no data or cache Redis');
  }
  const kills: Fault[] = t.services.map(({ name }) => ({
    name: `kill -9 ${name}`,
    what: `SIGKILL of ${name}; the supervisor restarts it`,
    inject: signal(t, name, 'SIGKILL'),
  }));
  kills.push({
    name: `kill -9 ${t.nginx.name}`,
    what: 'SIGKILL of the NGINX master and its workers (killing the master alone leaves the workers serving); the supervisor restarts it',
    inject: () => {
      const master = pidOf(t, t.nginx.name);
      const workers = execFileSync('pgrep', ['-P', String(master)], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map(Number);
      for (const pid of [master, ...workers]) {
        process.kill(pid, 'SIGKILL');
      }
      log(`killed the master ${master} and workers ${workers.join(', ')}`);
      return Promise.resolve();
    },
  });
  const stop = (name: string, role: string): Fault => ({
    name: `SIGSTOP ${name}`,
    what: `the ${role} Redis frozen (SIGSTOP) for the hold, then SIGCONT`,
    inject: signal(t, name, 'SIGSTOP'),
    heal: signal(t, name, 'SIGCONT'),
  });
  const mainReplica = t.postgres.find((n) => n.cluster === 'main' && n.role === 'replica');
  const mainPrimary = t.postgres.find((n) => n.cluster === 'main' && n.role === 'primary');
  return [
    ...kills,
    stop(dataRedis.name, 'data'),
    stop(cacheRedis.name, 'cache'),
    {
      name: `restart ${dataRedis.name}`,
      what: 'SIGKILL of the data Redis; the supervisor restarts it and it reloads its AOF',
      inject: signal(t, dataRedis.name, 'SIGKILL'),
    },
    {
      name: `FLUSHALL ${dataRedis.name}`,
      what: 'the data Redis emptied (timelines, graph copies, boards, sessions, queues): rebuilt from Postgres',
      inject: async () => {
        const redis = new Redis({ port: dataRedis.port, host: '127.0.0.1' });
        try {
          await redis.flushall();
          log(`flushed; marker now ${String(await redis.exists(DERIVED_KEYS.marker))}`);
        } finally {
          redis.disconnect();
        }
      },
    },
    ...(mainReplica
      ? [
          {
            name: `kill -9 main replica ${mainReplica.name}`,
            what: 'SIGKILL of a main replica (not restarted: the supervisor leaves a crashed Postgres down)',
            inject: signal(t, mainReplica.name, 'SIGKILL'),
          },
        ]
      : []),
    ...(mainPrimary
      ? [
          {
            name: `kill -9 main primary ${mainPrimary.name} + failover`,
            what: 'SIGKILL of the main primary, held, then `npm run stack:failover -- --cluster main`',
            inject: signal(t, mainPrimary.name, 'SIGKILL'),
            heal: async () => {
              const summary = await failoverStack({ profile: t.profile, cluster: 'main', log });
              log(`failover: ${JSON.stringify(summary)}`);
            },
          },
        ]
      : []),
  ];
}
