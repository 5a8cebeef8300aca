/**
 * `npm run chaos`: the fault suite. Restarts the dev stack (limits raised as for the bench), puts
 * a steady mixed load on it through NGINX (posts with Idempotency-Keys, follows and unfollows,
 * likes and unlikes, feed and board reads), and injects one fault at a time: `kill -9` of every
 * service process, worker and NGINX; SIGSTOP/SIGCONT of the data and the cache Redis; a restart
 * and a FLUSHALL of the data Redis; the kill of a replica; the kill of the primary, then a
 * failover. After each it measures the time to recover (a canary post acknowledged and in its
 * follower's feed, the board and a feed answering 200) and checks every acknowledged write
 * against Postgres (invariants.ts). Writes bench/results/<date>-<machine>-chaos.md.
 *
 *   npm run chaos [-- --hold 5 --only "FLUSHALL,kill -9 post-1" --machine vm --out FILE --keep]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  failoverStack,
  pgIdentity,
  runningStack,
  stackTopology,
  type Topology,
} from '@murmur/stack';
import { BENCH_ENV } from '../bench-env';
import { restartStack, stopStack } from '../stack-control';
import { asUser, type ChaosUser, Edge, newUser, Recorder, sleep } from './client';
import { faultsFor } from './faults';
import { type CheckResult, Invariants } from './invariants';
import { type Cast, MixedLoad } from './load';
import { renderChaosReport, type FaultRow } from './report';

const log = (line: string): void => void process.stderr.write(`[chaos] ${line}\n`);

/** A fault not recovered within this counts as not recovered (and the suite goes on). */
const RECOVERY_TIMEOUT_MS = 120_000;
/** NGINX's `fail_timeout`: how long the edge leaves out a server after `max_fails` errors. */
const EDGE_FAIL_TIMEOUT_MS = 11_000;
/** How long derived state may take to converge after a recovery before a gap counts as lost. */
const SETTLE_MS = 60_000;

interface Canary {
  author: ChaosUser;
  follower: ChaosUser;
}

/** Recovered: a canary post acknowledged and in the follower's feed; the board answers. */
async function recovered(edge: Edge, canary: Canary, n: number): Promise<boolean> {
  const posted = await asUser<{ id: string }>(edge, canary.author, 'POST', '/api/posts', {
    body: { text: `canary ${n}` },
    headers: { 'idempotency-key': `canary-${process.pid}-${n}` },
  });
  if (posted.status !== 201) {
    return false;
  }
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const feed = await asUser<{ items?: Array<{ id: string }> }>(
      edge,
      canary.follower,
      'GET',
      '/api/feed?limit=5',
    );
    if (feed.status === 200 && feed.body.items?.some((i) => i.id === posted.body.id)) {
      const board = await edge.call('GET', '/api/leaderboards/posters?limit=10');
      return board.status === 200;
    }
    await sleep(100);
  }
  return false;
}

/** Every component of the stack healthy (a killed one restarted, except a Postgres left down). */
async function untilHealthy(t: Topology, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const state = runningStack(t);
    const down = state?.components.filter((c) => !c.healthy && c.kind !== 'postgres') ?? [];
    if (state && down.length === 0) {
      return;
    }
    await sleep(250);
  }
  log('  some components are still unhealthy; going on');
}

async function castOf(edge: Edge): Promise<{ cast: Cast; canary: Canary }> {
  const authors: Cast['authors'] = [];
  for (let a = 0; a < 6; a++) {
    const author = await newUser(edge, `chaos_a${a}`);
    const followers = [await newUser(edge, `chaos_f${a}a`), await newUser(edge, `chaos_f${a}b`)];
    for (const f of followers) {
      const res = await asUser(edge, f, 'POST', `/api/users/${author.id}/follow`);
      if (res.status !== 204) {
        throw new Error(`setup follow answered ${res.status}`);
      }
    }
    authors.push({ author, followers });
  }
  const togglers = [];
  for (let i = 0; i < 4; i++) {
    togglers.push(await newUser(edge, `chaos_t${i}`));
  }
  const canary = {
    author: await newUser(edge, 'chaos_ca'),
    follower: await newUser(edge, 'chaos_cf'),
  };
  await asUser(edge, canary.follower, 'POST', `/api/users/${canary.author.id}/follow`);
  return { cast: { authors, togglers, likers: authors.flatMap((a) => a.followers) }, canary };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      hold: { type: 'string', default: '5' },
      only: { type: 'string' },
      machine: { type: 'string', default: 'vm' },
      out: { type: 'string' },
      keep: { type: 'boolean' },
      'no-restart': { type: 'boolean' },
      // likes written behind (off by default): shows what a loss of the data Redis costs them
      'write-behind': { type: 'boolean' },
    },
    strict: true,
  });
  const holdMs = Number(values.hold) * 1_000;
  const started = new Date();
  const date = started.toISOString().slice(0, 10);
  const suffix = values['write-behind'] ? '-write-behind' : '';
  const out = values.out ?? `bench/results/${date}-${values.machine}-chaos${suffix}.md`;

  if (!values['no-restart']) {
    log('restarting the dev stack (limits raised as for the bench)');
    await restartStack({
      ...BENCH_ENV,
      ...(values['write-behind'] ? { WRITE_BEHIND_ENABLED: 'true' } : {}),
    });
  }
  let t: Topology = stackTopology({ profile: 'dev' });
  const mainPrimaryAtStart = primaryOf(t, 'main');
  const recorder = new Recorder();
  const edge = new Edge(`http://127.0.0.1:${t.nginx.port}`, recorder);
  log('creating the cast (6 authors with 2 stable followers each, 4 togglers, a canary pair)');
  const { cast, canary } = await castOf(edge);
  const invariants = new Invariants(t, pgIdentity().superuser, cast);
  const load = new MixedLoad(edge, cast);
  load.start();
  recorder.window = 'warm-up';
  await sleep(5_000);

  const only = values.only?.split(',').map((s) => s.trim());
  const faults = faultsFor(t, log).filter((f) => !only || only.some((o) => f.name.includes(o)));
  const rows: FaultRow[] = [];
  let canaries = 0;
  for (const [i, fault] of faults.entries()) {
    log(`(${i + 1}/${faults.length}) ${fault.name}`);
    recorder.window = fault.name;
    const injected = Date.now();
    await fault.inject();
    // A crash heals by itself: recovery is timed from it. A fault that needs undoing is held,
    // undone, and timed from the undoing.
    if (fault.heal) {
      await sleep(holdMs);
      await fault.heal();
    }
    const base = Date.now();
    let recoveredMs: number | undefined;
    while (Date.now() - base < RECOVERY_TIMEOUT_MS) {
      if (await recovered(edge, canary, canaries++)) {
        recoveredMs = Date.now() - base;
        break;
      }
      await sleep(200);
    }
    // the fault's window lasts at least the hold, whatever the recovery took
    await sleep(Math.max(0, injected + holdMs - Date.now()));
    recorder.window = `after ${fault.name}`;
    const byStatus = Object.fromEntries(
      recorder.counts.get(fault.name) ?? new Map<string, number>(),
    );
    log(
      `  recovered ${recoveredMs === undefined ? 'NOT' : `in ${(recoveredMs / 1000).toFixed(1)} s`}; checking`,
    );
    t = stackTopology({ profile: 'dev' });
    await invariants.settle(SETTLE_MS);
    const result: CheckResult = await invariants.check(load.ledger, SETTLE_MS);
    log(
      `  checked ${result.checked}: lost ${result.lost}, duplicated ${result.duplicated}${result.problems.length ? ` (${result.problems.join('; ')})` : ''}`,
    );
    rows.push({
      fault: fault.name,
      what: fault.what,
      byStatus,
      recoveredMs,
      measuredFrom: fault.heal ? 'heal' : 'injection',
      ...result,
    });
    // One fault at a time: the next starts once every component is healthy again and the edge
    // has stopped excluding a restarted process (its passive health check, fail_timeout 10 s).
    await untilHealthy(t, RECOVERY_TIMEOUT_MS);
    await sleep(Math.max(0, injected + EDGE_FAIL_TIMEOUT_MS - Date.now()));
  }

  log('stopping the load; every write in flight retries until acknowledged');
  await load.stop();
  await invariants.settle(SETTLE_MS);
  const final = await invariants.check(load.ledger, SETTLE_MS);
  invariants.close();
  const report = renderChaosReport({
    started,
    machine: values.machine,
    holdMs,
    writeBehind: values['write-behind'] === true,
    rows,
    final,
    ledger: load.ledger,
    cast,
    statusTotals: recorder.counts,
  });
  writeFileSync(out, report);
  log(`report: ${out}`);
  console.log(report);
  await failBack(mainPrimaryAtStart);
  if (!values.keep) {
    await stopStack();
  }
  const bad = rows.some((r) => r.lost > 0 || r.duplicated > 0 || r.recoveredMs === undefined);
  process.exit(bad || final.lost > 0 || final.duplicated > 0 ? 1 : 0);
}

function primaryOf(t: Topology, cluster: string): string | undefined {
  return t.postgres.find((n) => n.cluster === cluster && n.role === 'primary')?.name;
}

/**
 * The primary fault ends with a standby promoted, and the stack keeps that role across restarts:
 * hand the main cluster back to the node it started on, so the next `npm start` and `npm run seed`
 * find the stack as it was (the old primary is a streaming standby again by now).
 */
async function failBack(primary: string | undefined): Promise<void> {
  const now = primaryOf(stackTopology({ profile: 'dev' }), 'main');
  if (primary === undefined || now === primary) {
    return;
  }
  log(`handing the main cluster back to ${primary} (it is on ${now ?? '?'} since the failover)`);
  try {
    await failoverStack({ profile: 'dev', cluster: 'main', to: primary, log });
  } catch (error) {
    log(
      `could not hand it back (${(error as Error).message}): run npm run stack:failover -- --cluster main --to ${primary}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(
    `chaos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
});
