import { cpus } from 'node:os';
import type { CheckResult } from './invariants';
import type { Cast, Ledger } from './load';

export interface FaultRow extends CheckResult {
  fault: string;
  what: string;
  /** answers by status while the fault was on and until recovery */
  byStatus: Record<string, number>;
  /** undefined: not recovered within the timeout */
  recoveredMs?: number;
  measuredFrom: 'heal' | 'injection';
}

export interface ChaosReportInput {
  started: Date;
  machine: string;
  holdMs: number;
  writeBehind: boolean;
  rows: FaultRow[];
  final: CheckResult;
  ledger: Ledger;
  cast: Cast;
  statusTotals: Map<string, Map<string, number>>;
}

const statuses = (byStatus: Record<string, number>): string =>
  Object.entries(byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ') || '–';

export function renderChaosReport(r: ChaosReportInput): string {
  const likes = [...r.ledger.likes.values()];
  const follows = [...r.ledger.follows.values()];
  const lines = [
    `# Chaos run, ${r.started.toISOString().slice(0, 16).replace('T', ' ')} UTC (${r.machine}, ${cpus().length} vCPUs)`,
    '',
    '`npm run chaos` on the local dev stack: one fault at a time under a steady mixed load through',
    `NGINX; a fault that needs undoing (a frozen Redis, a dead primary) is held ${r.holdMs / 1000} s and undone, a crash is left to the stack to heal; after each,`,
    'every write acknowledged so far is checked against Postgres and the data Redis',
    '(tools/bench/chaos/invariants.ts). "Recovered" is the time from the heal (or from the crash,',
    "when the stack heals itself) until a canary post is acknowledged and in its follower's feed and",
    'the board answers. Requests are those of the load from the injection until the recovery (at',
    'least the hold). The next fault starts once every component is healthy again and the edge has',
    "re-admitted a restarted process (NGINX's fail_timeout, 10 s): one fault at a time.",
    '',
    `Configuration: the defaults (limits raised as for the bench)${r.writeBehind ? ', with likes written behind (`WRITE_BEHIND_ENABLED=true`)' : ', so likes are written through'}.`,
    '',
    `Load: ${r.cast.authors.length} authors posting (with an Idempotency-Key, retried with the same key until acknowledged), ` +
      `each with 2 stable followers who like and unlike its posts and read their feeds; ${r.cast.togglers.length} users following and unfollowing the authors.`,
    '',
    '| fault | requests during it, by status | recovered in | acknowledged writes checked | lost | duplicated |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...r.rows.map(
      (row) =>
        `| ${row.fault} | ${statuses(row.byStatus)} | ${row.recoveredMs === undefined ? '**not recovered**' : `${(row.recoveredMs / 1000).toFixed(1)} s`} | ${row.checked} | ${row.lost} | ${row.duplicated} |`,
    ),
    '',
    `**At the end** (load stopped, writes in flight settled): ${r.final.checked} checks, ` +
      `${r.final.lost} lost, ${r.final.duplicated} duplicated.`,
    '',
    `Acknowledged: ${r.ledger.posts.length} posts (${r.ledger.posts.filter((p) => p.attempts > 1).length} needed a retry with the same key), ` +
      `${follows.length} follow states, ${likes.length} like states; ${r.ledger.retries} retries in all; ` +
      `${r.ledger.unsettled} writes never acknowledged (left out of the checks).`,
    '',
    '## Problems found',
    '',
    ...(r.rows.some((row) => row.problems.length > 0) || r.final.problems.length > 0
      ? [
          ...r.rows
            .filter((row) => row.problems.length > 0)
            .map((row) => `- after ${row.fault}: ${row.problems.join('; ')}`),
          ...(r.final.problems.length > 0 ? [`- at the end: ${r.final.problems.join('; ')}`] : []),
        ]
      : ['None: every acknowledged write was found, once.']),
    '',
    '## The faults',
    '',
    ...r.rows.map(
      (row) => `- **${row.fault}**: ${row.what} (recovery measured from the ${row.measuredFrom}).`,
    ),
    '',
  ];
  return lines.join('\n');
}
