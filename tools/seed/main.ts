/**
 * `npm run seed -- --users N --posts M [--sessions K]`: bulk-load a realistic data set straight
 * into the running dev stack's databases (seed.ts says what it writes), mint sessions for K of
 * the users, and write the credentials and session tokens the k6 scenarios use to
 * loadtests/data/seed-credentials.json (git-ignored).
 * Targets default to the dev stack (`npm start`); DATABASE_URL, SHARDS, REDIS_URL, SHARD_MAP,
 * TIMELINE_MAX and SESSION_* override them, so the same command seeds compose or a
 * port-forwarded cluster.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@murmur/config';
import { DEV_STACK } from './dev-stack';
import { type SeedOptions, type SeedTargets, seedDataSet, seedTargetsSchema } from './seed';
import { warmThroughEdge } from './warm';

interface CliOptions extends SeedOptions {
  out: string;
  /** the edge to warm through, or undefined for no warm-up */
  warm?: string;
  warmRequests: number;
}

function parseCli(): CliOptions {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '1000' },
      posts: { type: 'string', default: '10000' },
      follows: { type: 'string', default: '25' },
      days: { type: 'string', default: '30' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
      password: { type: 'string', default: 'seeded-password' },
      sessions: { type: 'string', default: '1000' },
      out: { type: 'string', default: 'loadtests/data/seed-credentials.json' },
      // The dev stack's edge (MURMUR_PORT as npm start uses it); `off` skips the warm-up.
      warm: { type: 'string', default: `http://127.0.0.1:${process.env.MURMUR_PORT ?? '8080'}` },
      'warm-requests': { type: 'string', default: '3000' },
    },
    strict: true,
  });
  const int = (name: string, raw: string, min: number): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`);
    }
    return n;
  };
  if (values.password.length < 8) {
    throw new Error('--password must be at least 8 characters (the sign-up rule)');
  }
  return {
    users: int('users', values.users, 2),
    posts: int('posts', values.posts, 0),
    follows: int('follows', values.follows, 0),
    days: int('days', values.days, 1),
    seed: int('seed', values.seed, 0),
    password: values.password,
    sessions: int('sessions', values.sessions, 0),
    vacuum: true,
    out: values.out,
    warm: values.warm === 'off' ? undefined : values.warm.replace(/\/$/, ''),
    warmRequests: int('warm-requests', values['warm-requests'], 1),
  };
}

function targets(): SeedTargets {
  return loadConfig(seedTargetsSchema, { ...DEV_STACK, ...process.env });
}

/**
 * The bulk load went past the services, so every cache on the read path is empty: warm it through
 * the edge (reads only) unless `--warm off`, and say what the warm-up bought.
 */
async function warmUp(
  baseUrl: string,
  requests: number,
  credentials: Awaited<ReturnType<typeof seedDataSet>>['credentials'],
): Promise<string> {
  const up = await fetch(`${baseUrl}/nginx/health`, { signal: AbortSignal.timeout(2_000) })
    .then((r) => r.ok)
    .catch(() => false);
  if (!up) {
    return `  warm-up    skipped: no edge at ${baseUrl} (--warm <url> or --warm off)`;
  }
  const w = await warmThroughEdge(credentials, { baseUrl, requests, concurrency: 8 });
  const statuses = [...w.byStatus.entries()].map(([s, n]) => `${s}: ${n}`).join(', ');
  return (
    `  warm-up    ${w.requests} reads through ${baseUrl} in ${w.seconds.toFixed(1)} s (${statuses}); ` +
    `p95 ${w.firstQuarterP95.toFixed(0)} ms in the first quarter, ${w.lastQuarterP95.toFixed(0)} ms in the last` +
    (w.shedRetries > 0 ? `; ${w.shedRetries} shed answers sent again after Retry-After` : '')
  );
}

async function main(): Promise<void> {
  const args = parseCli();
  const { credentials, report } = await seedDataSet(args, targets());
  const out = path.resolve(args.out);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(credentials));
  const lines = [...report, `  credentials ${path.relative(process.cwd(), out)}`];
  if (args.warm) {
    lines.push(await warmUp(args.warm, args.warmRequests, credentials));
  }
  console.log(['', ...lines].join('\n'));
}

main().catch((error: unknown) => {
  console.error(`\nseed failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
