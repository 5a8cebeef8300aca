import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { seconds } from './output';
import {
  pgFollow,
  type PgNodeStatus,
  pgNodeStatus,
  pgPromote,
  pgStreamingFrom,
  pgWritable,
} from './postgres';
import { until } from './probes';
import type { PostgresNode, Topology } from './topology';

/**
 * Failover of one Postgres cluster of the local stack: fence the primary, promote the standby
 * that has received the most WAL, point the other standbys at it, rebuild the old primary as a
 * standby of it, and wait until every service process writes to it. The supervisor runs it (it
 * owns the Postgres processes); `npm run stack:failover` asks it to over its control socket.
 */
export interface FailoverRequest {
  cluster: string;
  /** the standby to promote; default the one with the furthest WAL */
  to?: string;
}

export interface FailoverSummary {
  cluster: string;
  oldPrimary: string;
  newPrimary: string;
  /** how the old primary was stopped: cleanly (it answered) or SIGKILL (dead or hung) */
  fenced: 'stopped' | 'killed' | 'was down';
  /** ms from the start of the failover */
  promotedMs: number;
  writableMs: number;
  /** every service process using the cluster reports the new primary (undefined: none runs) */
  servicesMs?: number;
  services: string[];
  /** the other standbys following the new primary, and the old primary rebuilt as one */
  followers: Array<{ name: string; how: 're-pointed' | 'rebuilt'; ms: number }>;
  totalMs: number;
}

/** What the failover needs from whoever runs the Postgres processes (the supervisor). */
export interface FailoverHost {
  topology: Topology;
  superuser: string;
  /** stop a node's process for good: cleanly (a switchover) or SIGKILL (dead or hung) */
  fence(node: PostgresNode, how: 'stop' | 'kill'): Promise<FailoverSummary['fenced']>;
  /** make `node` a fresh standby of `primary` (a base backup) and start it */
  rebuild(node: PostgresNode, primary: PostgresNode): Promise<void>;
  /** record the new roles (topology, state, and for the next start) */
  setPrimary(cluster: string, primary: PostgresNode): void;
  /** `postgres-<cluster>-primary` as each service process reports it in /health/ready */
  servicePrimaries(cluster: string): Promise<Array<{ name: string; primary?: string | null }>>;
}

const SERVICES_FOLLOW_TIMEOUT_MS = 30_000;
const REPOINT_TIMEOUT_MS = 15_000;

export async function runFailover(
  host: FailoverHost,
  request: FailoverRequest,
  progress: (line: string) => void,
): Promise<FailoverSummary> {
  const t0 = Date.now();
  const since = (): number => Date.now() - t0;
  const { superuser } = host;
  const nodes = host.topology.postgres.filter((n) => n.cluster === request.cluster);
  if (nodes.length === 0) {
    const clusters = [...new Set(host.topology.postgres.map((n) => n.cluster))];
    throw new Error(`no cluster "${request.cluster}" (one of ${clusters.join(', ')})`);
  }
  const old = nodes.find((n) => n.role === 'primary') as PostgresNode;
  const status = new Map<PostgresNode, PgNodeStatus>(
    await Promise.all(nodes.map(async (n) => [n, await pgNodeStatus(n.port, superuser)] as const)),
  );
  for (const n of nodes) {
    progress(`  ${n.name} :${n.port} (${n.role}): ${describe(status.get(n))}`);
  }
  const target = chooseTarget(nodes, old, status, request.to);

  const oldUp = status.get(old)?.reachable === true && status.get(old)?.standby === false;
  progress(`fencing ${old.name}: ${oldUp ? 'clean stop (it still answers)' : 'SIGKILL'}`);
  const fenced = await host.fence(old, oldUp ? 'stop' : 'kill');
  progress(`${old.name} fenced (${fenced}, ${seconds(since())})`);

  progress(`promoting ${target.name} :${target.port}`);
  await pgPromote(target.port, superuser);
  const promotedMs = since();
  if (!(await until(() => pgWritable(target.port, superuser), 10_000))) {
    throw new Error(`${target.name} was promoted but takes no write after 10 s`);
  }
  const writableMs = since();
  host.setPrimary(request.cluster, target);
  progress(`${target.name} is primary and takes writes (${seconds(writableMs)})`);

  const services = watchServices(host, request.cluster, target, since, progress);
  const followers: FailoverSummary['followers'] = [];
  const others = nodes.filter((n) => n !== old && n !== target);
  await Promise.all(
    others.map(async (n) => {
      if (status.get(n)?.reachable) {
        await pgFollow(n.port, superuser, target.port);
        if (
          await until(() => pgStreamingFrom(n.port, superuser, target.port), REPOINT_TIMEOUT_MS)
        ) {
          followers.push({ name: n.name, how: 're-pointed', ms: since() });
          progress(`${n.name} streams from ${target.name} (${seconds(since())})`);
          return;
        }
        progress(`${n.name} does not follow ${target.name}'s timeline: rebuilding it`);
      }
      await host.rebuild(n, target);
      followers.push({ name: n.name, how: 'rebuilt', ms: since() });
      progress(`${n.name} rebuilt as a standby of ${target.name} (${seconds(since())})`);
    }),
  );
  // The old primary may hold WAL no standby received: it comes back only as a fresh copy.
  progress(`rebuilding ${old.name} as a standby of ${target.name}`);
  await host.rebuild(old, target);
  followers.push({ name: old.name, how: 'rebuilt', ms: since() });
  progress(`${old.name} streams from ${target.name} (${seconds(since())})`);
  const followed = await services;

  return {
    cluster: request.cluster,
    oldPrimary: old.name,
    newPrimary: target.name,
    fenced,
    promotedMs,
    writableMs,
    servicesMs: followed.ms,
    services: followed.names,
    followers,
    totalMs: since(),
  };
}

function describe(s: PgNodeStatus | undefined): string {
  if (!s?.reachable) {
    return 'not answering';
  }
  return `${s.standby ? 'standby' : 'primary'} at ${s.lsn ?? '?'}`;
}

/** The standby to promote: the one asked for, else the one that has received the most WAL. */
export function chooseTarget(
  nodes: PostgresNode[],
  old: PostgresNode,
  status: Map<PostgresNode, PgNodeStatus>,
  to: string | undefined,
): PostgresNode {
  const standbys = nodes.filter(
    (n) => n !== old && status.get(n)?.reachable && status.get(n)?.standby,
  );
  if (to !== undefined) {
    const asked = nodes.find((n) => n.name === to);
    if (!asked) {
      throw new Error(`no node "${to}" in ${old.cluster} (${nodes.map((n) => n.name).join(', ')})`);
    }
    if (!standbys.includes(asked)) {
      throw new Error(`${to} is not a standby that answers: it cannot be promoted`);
    }
    return asked;
  }
  if (standbys.length === 0) {
    throw new Error(`no standby of ${old.cluster} answers: there is nothing to promote`);
  }
  return standbys.reduce((best, n) =>
    lsnValue(status.get(n)?.lsn) > lsnValue(status.get(best)?.lsn) ? n : best,
  );
}

function lsnValue(lsn: string | undefined): bigint {
  if (!lsn) {
    return -1n;
  }
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/** Wait until every service process that uses the cluster reports the new primary. */
async function watchServices(
  host: FailoverHost,
  cluster: string,
  target: PostgresNode,
  since: () => number,
  progress: (line: string) => void,
): Promise<{ ms?: number; names: string[] }> {
  const address = `127.0.0.1:${target.port}`;
  let names: string[] = [];
  const followed = await until(
    async () => {
      const seen = (await host.servicePrimaries(cluster)).filter((s) => s.primary !== undefined);
      names = seen.map((s) => s.name);
      return seen.every((s) => s.primary === address);
    },
    SERVICES_FOLLOW_TIMEOUT_MS,
    { intervalMs: 50 },
  );
  if (!followed) {
    progress(`not every service process reports ${target.name} as primary after 30 s`);
    return { names };
  }
  if (names.length > 0) {
    progress(
      `every service process using ${cluster} writes to ${target.name} (${seconds(since())})`,
    );
  }
  return { ms: names.length > 0 ? since() : undefined, names };
}

/** The summary `npm run stack:failover` prints. */
export function formatFailover(s: FailoverSummary): string {
  const rows: Array<[string, number | undefined]> = [
    [`${s.oldPrimary} fenced (${s.fenced})`, undefined],
    [`${s.newPrimary} promoted`, s.promotedMs],
    [`${s.newPrimary} takes writes`, s.writableMs],
    [
      s.services.length === 0
        ? 'no service process uses this cluster'
        : s.servicesMs === undefined
          ? 'NOT every service process writes to it after 30 s'
          : `writes from every service process (${s.services.length})`,
      s.servicesMs,
    ],
    ...s.followers.map((f): [string, number] => [`${f.name} ${f.how}, streaming`, f.ms]),
  ];
  const width = Math.max(...rows.map(([what]) => what.length));
  return [
    `failover of ${s.cluster}: ${s.oldPrimary} → ${s.newPrimary} in ${seconds(s.totalMs)}`,
    ...rows.map(([what, ms]) =>
      `  ${what.padEnd(width)}  ${ms === undefined ? '' : seconds(ms)}`.trimEnd(),
    ),
    ...(s.services.length > 0 ? [`  service processes: ${s.services.join(', ')}`] : []),
  ].join('\n');
}

/** Where the supervisor keeps each cluster's primary after a failover, for the next start. */
const primariesFile = (t: Topology): string => path.join(t.stateDir, 'pg', 'primaries.json');

export function writePrimaries(t: Topology): void {
  const primaries = Object.fromEntries(
    t.postgres.filter((n) => n.role === 'primary').map((n) => [n.cluster, n.name]),
  );
  writeFileSync(primariesFile(t), `${JSON.stringify(primaries, null, 2)}\n`);
}

/** Make `primary` its cluster's primary in `t` (and every other node a standby of it). */
export function assignPrimary(t: Topology, cluster: string, primary: string): void {
  const nodes = t.postgres.filter((n) => n.cluster === cluster);
  const chosen = nodes.find((n) => n.name === primary);
  if (!chosen) {
    return;
  }
  for (const n of nodes) {
    n.role = n === chosen ? 'primary' : 'replica';
    n.primaryPort = n === chosen ? undefined : chosen.port;
  }
}

/**
 * The topology with the roles left by earlier failovers (a promoted standby stays primary across
 * restarts of the stack; `--fresh` forgets them with the data).
 */
export function withCurrentRoles(t: Topology): Topology {
  const file = primariesFile(t);
  if (!existsSync(file)) {
    return t;
  }
  try {
    const primaries = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    for (const [cluster, primary] of Object.entries(primaries)) {
      assignPrimary(t, cluster, primary);
    }
  } catch {
    // an unreadable file: the topology's own roles
  }
  return t;
}
