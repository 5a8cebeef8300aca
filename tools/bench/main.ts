/**
 * `npm run bench`: measures, on the running dev stack, the ceilings (NGINX answering by itself; a
 * trivial service endpoint through NGINX) and the read journeys at a fixed connection count and at
 * a fixed arrival rate, then writes bench/results/<date>-<machine>.md (+ .svg) and prints the table.
 * Needs `npm start` and `npm run seed` first (it logs in seeded users: the login rate limit allows
 * only a few per IP, and the write limit keeps write journeys out of a closed-loop benchmark).
 *   npm run bench -- --duration 10 --connections 50 --rate 500
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { buildTopology } from '@murmur/stack';
import { barChartSvg, markdownTable, type Row } from './report';

interface Credentials {
  password: string;
  users: Array<{ id: string; username: string }>;
}

interface Target {
  name: string;
  kind: Row['kind'];
  /** picks the path of each request */
  path: () => string;
  auth: boolean;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

async function logIn(base: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 201) {
    throw new Error(`login of ${username} answered ${res.status}: is the seed from this stack?`);
  }
  return ((await res.json()) as { token: string }).token;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      rate: { type: 'string', default: '500' },
      url: { type: 'string' },
      credentials: { type: 'string', default: 'loadtests/data/seed-credentials.json' },
      out: { type: 'string', default: 'bench/results' },
    },
    strict: true,
  });
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const rate = Number(values.rate);
  const base = values.url ?? `http://127.0.0.1:${buildTopology({ profile: 'dev' }).nginx.port}`;
  const creds = JSON.parse(readFileSync(values.credentials, 'utf8')) as Credentials;

  const tokens: string[] = [];
  for (let i = 0; i < Math.min(5, creds.users.length); i++) {
    tokens.push(await logIn(base, pick(creds.users).username, creds.password));
  }
  const userIds = creds.users.map((u) => u.id);
  const feed = (await (
    await fetch(`${base}/api/feed?limit=50`, { headers: { authorization: `Bearer ${tokens[0]}` } })
  ).json()) as { items: Array<{ id: string }> };
  const postIds = feed.items.map((p) => String(p.id));
  if (postIds.length === 0) {
    throw new Error('the first seeded user has an empty feed: seed with more posts');
  }

  const targets: Target[] = [
    { name: 'NGINX /nginx/health', kind: 'ceiling', path: () => '/nginx/health', auth: false },
    {
      name: 'trivial: leaderboard top 1',
      kind: 'ceiling',
      path: () => '/api/leaderboards/posters?limit=1',
      auth: true,
    },
    { name: 'feed: first page', kind: 'journey', path: () => '/api/feed?limit=20', auth: true },
    {
      name: 'profile: random user',
      kind: 'journey',
      path: () => `/api/users/${pick(userIds)}`,
      auth: true,
    },
    {
      name: 'post: read one',
      kind: 'journey',
      path: () => `/api/posts/${pick(postIds)}`,
      auth: true,
    },
    {
      name: 'leaderboard: top 10',
      kind: 'journey',
      path: () => '/api/leaderboards/posters?limit=10',
      auth: true,
    },
  ];

  const rows: Row[] = [];
  const modes: Array<{ mode: string; overallRate?: number }> = [
    { mode: `${connections} conns` },
    { mode: `${rate} req/s`, overallRate: rate },
  ];
  for (const t of targets) {
    for (const m of t.kind === 'ceiling' ? modes.slice(0, 1) : modes) {
      process.stderr.write(`bench: ${t.name} at ${m.mode} for ${duration}s … `);
      const result = await autocannon({
        url: base,
        connections,
        duration,
        overallRate: m.overallRate,
        setupClient: (client) => {
          if (t.auth) {
            client.setHeaders({ authorization: `Bearer ${pick(tokens)}` });
          }
        },
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: t.path() }) }],
      });
      const row: Row = {
        name: t.name,
        kind: t.kind,
        mode: m.mode,
        rps: result.requests.average,
        okRps: result['2xx'] / duration,
        p50: result.latency.p50,
        p99: result.latency.p99,
        errors: result.errors + result.timeouts + result.non2xx,
      };
      rows.push(row);
      process.stderr.write(
        `${Math.round(row.rps)} req/s (${Math.round(row.okRps)} 2xx/s), p99 ${row.p99} ms\n`,
      );
    }
  }

  const date = new Date().toISOString().slice(0, 10);
  const machine = hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
  const dir = path.resolve(values.out);
  mkdirSync(dir, { recursive: true });
  const table = markdownTable(rows);
  const svgName = `${date}-${machine}.svg`;
  writeFileSync(path.join(dir, svgName), barChartSvg(rows, `Murmur bench ${date} on ${machine}`));
  writeFileSync(
    path.join(dir, `${date}-${machine}.md`),
    [
      `# Murmur bench, ${date}, ${machine}`,
      '',
      `Dev stack (\`npm start\`) through NGINX at ${base}; ${duration} s per run, ${connections}`,
      `connections (closed loop) and ${rate} req/s (open loop, autocannon \`overallRate\`).`,
      'Authenticated runs rotate over 5 seeded sessions. Non-2xx answers above ~5,000 req/s are 429s from',
      'RATE_LIMIT_ROUTE_CEILING (5000/1 per route), so the 2xx/s column is the one to compare.',
      '',
      table,
      '',
      `![throughput](${svgName})`,
      '',
      'Pattern-off runs (L1, L2, read replicas, fan-out, write-behind, tracing) are not in this report:',
      'the local stack cannot pass extra env to services yet (see docs/loadtesting.md).',
      '',
    ].join('\n'),
  );
  console.log(
    `\n${table}\n\nreport: ${path.relative(process.cwd(), path.join(dir, `${date}-${machine}.md`))}`,
  );
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
