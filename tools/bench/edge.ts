/**
 * `npm run bench:edge`: what the edge's switches buy, measured on the dev stack in one run.
 *   1. the edge cache (EDGE_CACHE) off, on, off again (noise) for anonymous public reads;
 *   2. each load-balancing algorithm (EDGE_LB) on the callers' own reads (profile, author page)
 *      with a small L1: 2xx/s, p99, each process's share of its pool and its own L1 hit ratio;
 *   3. a user process killed mid-run under least_conn and under hash_user: the user pool's L1
 *      hit ratio per 2 s and the non-2xx answers;
 *   4. transport: HTTP/1.1 plain (identity, gzip, br), HTTPS HTTP/1.1 and HTTPS HTTP/2 (EDGE_TLS)
 *      for one larger public answer, from one Node client for all five.
 * Needs `npm run seed` first (it reads the seeded sessions). Writes a Markdown report.
 *   npm run bench:edge -- [--duration 10] [--connections 50] [--sessions 200] [--out bench/results]
 */
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { type ClientHttp2Session, connect as h2connect } from 'node:http2';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sumSamples } from '@murmur/observability';
import { buildTopology, EDGE_LB_ALGORITHMS, readState, type EdgeLb } from '@murmur/stack';
import { BENCH_ENV } from './bench-env';
import { type Credentials, k6Headers, openSessions, pick, type Session } from './journeys';
import type { JourneyRequest } from './journeys';
import { reportPlace } from './report';
import { restartStack, stopStack } from './stack-control';
import { runClosedLoop, zipfSampler } from './stats';

const t = buildTopology({ profile: 'dev' });
const base = `http://127.0.0.1:${t.nginx.port}`;
const accessLogFile = path.join(t.nginx.dir, 'access.log');
const mains = t.services.filter((s) => s.entry === 'main');
const log = (msg: string): void => void process.stderr.write(`[bench:edge] ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Load {
  okRps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function load(
  connections: number,
  duration: number,
  next: () => { req: JourneyRequest; token?: string },
): Promise<Load> {
  const r = await autocannon({
    url: base,
    connections,
    duration,
    requests: [
      {
        setupRequest: (req) => {
          const { req: j, token } = next();
          return { ...req, method: j.method, path: j.path, headers: k6Headers(token) };
        },
      },
    ],
  });
  return {
    okRps: r['2xx'] / duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.errors + r.timeouts + r.non2xx,
  };
}

/** Access-log lines NGINX wrote since `offset` (it flushes its buffer every second). */
async function logSince(
  offset: number,
): Promise<Array<{ upstream_addr: string; cache: string; time: string }>> {
  await sleep(1_500);
  const size = statSync(accessLogFile).size;
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(accessLogFile, 'r');
  readSync(fd, buf, 0, buf.length, offset);
  closeSync(fd);
  return buf
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { upstream_addr: string; cache: string; time: string });
}
const logOffset = (): number => statSync(accessLogFile).size;

/** Requests the service processes answered (their own request histograms), probes left out. */
async function served(): Promise<number> {
  let total = 0;
  for (const s of mains) {
    const text = await fetch(`http://127.0.0.1:${s.port}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    total += sumSamples(text, 'murmur_http_request_duration_seconds_count', {
      route: ['/api/posts/:id', '/api/users/:id', '/api/leaderboards/:board'],
    });
  }
  return total;
}

/** L1 hits and misses per service process (its own /metrics). */
async function l1(): Promise<Map<string, { hit: number; miss: number }>> {
  const out = new Map<string, { hit: number; miss: number }>();
  for (const s of mains) {
    const text = await fetch(`http://127.0.0.1:${s.port}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    out.set(s.name, {
      hit: sumSamples(text, 'murmur_cache_requests_total', { layer: 'l1', result: 'hit' }),
      miss: sumSamples(text, 'murmur_cache_requests_total', { layer: 'l1', result: 'miss' }),
    });
  }
  return out;
}
/** Per process and cache: below the 1,000 seeded users, so placement decides the hit ratio. */
const L1_ENTRIES = 300;
const ratio = (hit: number, miss: number): string =>
  hit + miss === 0 ? '—' : `${((100 * hit) / (hit + miss)).toFixed(1)}%`;

/** GETs that resolve with the body's size as sent, failing on a non-2xx. */
interface TransportClient {
  get: (p: string, acceptEncoding: string) => Promise<number>;
  close: () => void;
}

function transportClient(kind: 'h1' | 'h1s' | 'h2', sockets: number, ca: Buffer): TransportClient {
  if (kind === 'h2') {
    // NGINX ends a connection after keepalive_requests (10,000) with a GOAWAY: open a new one.
    let session: ClientHttp2Session | undefined;
    const open = (): ClientHttp2Session => {
      if (!session || session.closed || session.destroyed) {
        const s = h2connect(`https://127.0.0.1:${t.nginx.tlsPort}`, { ca });
        s.on('goaway', () => (session = session === s ? undefined : session));
        s.on('error', () => (session = session === s ? undefined : session));
        session = s;
      }
      return session;
    };
    return {
      get: (p, enc) =>
        new Promise((resolve, reject) => {
          const stream = open().request({ ':path': p, 'accept-encoding': enc });
          let status = 0;
          let size = 0;
          stream.on('response', (h) => (status = Number(h[':status'])));
          stream.on('data', (c: Buffer) => (size += c.length));
          stream.on('end', () => (status < 300 ? resolve(size) : reject(new Error(`${status}`))));
          stream.on('error', reject);
        }),
      close: () => session?.close(),
    };
  }
  const tls = kind === 'h1s';
  const agent = tls
    ? new HttpsAgent({ keepAlive: true, maxSockets: sockets, ca })
    : new HttpAgent({ keepAlive: true, maxSockets: sockets });
  const send = tls ? httpsRequest : httpRequest;
  const port = tls ? t.nginx.tlsPort : t.nginx.port;
  return {
    get: (p, enc) =>
      new Promise((resolve, reject) => {
        const req = send(
          { host: '127.0.0.1', port, path: p, agent, headers: { 'accept-encoding': enc } },
          (res) => {
            let size = 0;
            res.on('data', (c: Buffer) => (size += c.length));
            res.on('end', () =>
              (res.statusCode ?? 0) < 300 ? resolve(size) : reject(new Error(`${res.statusCode}`)),
            );
          },
        );
        req.on('error', reject);
        req.end();
      }),
    close: () => agent.destroy(),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      sessions: { type: 'string', default: '1000' },
      credentials: { type: 'string', default: 'loadtests/data/seed-credentials.json' },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const creds = JSON.parse(readFileSync(values.credentials, 'utf8')) as Credentials;
  const started = Date.now();
  const md: string[] = [];
  let sessions: Session[] = [];
  let postIds: string[] = [];
  let userIds: string[] = [];

  const up = async (env: Record<string, string>): Promise<void> => {
    const s = await restartStack({ ...BENCH_ENV, ...env });
    log(`  stack up in ${s.toFixed(1)} s with ${JSON.stringify(env)}`);
    if (sessions.length === 0) {
      const opened = await openSessions(base, creds, Number(values.sessions));
      sessions = opened.sessions;
      postIds = opened.data.postIds;
      userIds = opened.data.userIds;
    }
  };

  try {
    // 1 ── the edge cache on anonymous public reads: Zipf over posts and profiles, and the board.
    md.push(
      '## 1. Edge cache (EDGE_CACHE) on anonymous public reads',
      '',
      `Anonymous GETs, ${connections} connections, ${duration} s each, keys drawn Zipf(s=1.1) over the seeded posts and users (a post, a profile or the posters board, in turn). "edge HIT share" comes from the edge's access log; "requests that reached a service" from the services' own request histograms (the edge's background refreshes included, which its access log does not show).`,
      '',
      '| EDGE_CACHE | 2xx/s | p50 ms | p99 ms | non-2xx | edge HIT share | requests that reached a service |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const [label, value] of [
      ['off', 'off'],
      ['on', 'on'],
      ['off, again (noise)', 'off'],
    ] as const) {
      log(`edge cache ${label} …`);
      await up({ EDGE_CACHE: value });
      const zipfPost = zipfSampler(postIds.length, 1.1);
      const zipfUser = zipfSampler(userIds.length, 1.1);
      let turn = 0;
      const next = (): { req: JourneyRequest } => {
        const k = turn++ % 3;
        const p =
          k === 0
            ? `/api/posts/${postIds[zipfPost()]}`
            : k === 1
              ? `/api/users/${userIds[zipfUser()]}`
              : '/api/leaderboards/posters?limit=10';
        return { req: { method: 'GET', path: p, endpoint: 'public' } };
      };
      await load(connections, 3, next); // warm-up
      const offset = logOffset();
      const servedBefore = await served();
      const r = await load(connections, duration, next);
      const lines = await logSince(offset);
      // The services' own count: the edge's background refreshes are not in its access log.
      const upstream = (await served()) - servedBefore;
      const hits = lines.filter((l) => l.cache === 'HIT').length;
      md.push(
        `| ${label} | ${Math.round(r.okRps)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${ratio(hits, lines.length - hits)} | ${upstream} for ${lines.length} answered (${ratio(upstream, lines.length - upstream)}) |`,
      );
      log(
        `  ${Math.round(r.okRps)} 2xx/s, p99 ${r.p99} ms, HIT ${ratio(hits, lines.length - hits)}`,
      );
    }

    // 2 ── the algorithms on the callers' own reads, with an L1 smaller than the key space.
    const own = (): { req: JourneyRequest; token: string } => {
      const session = pick(sessions);
      const path =
        Math.random() < 0.5
          ? `/api/users/${session.userId}`
          : `/api/posts?author=${session.userId}&limit=20`;
      return { req: { method: 'GET', path, endpoint: 'own' }, token: session.token };
    };
    const lbEnv = (lb: EdgeLb): Record<string, string> => ({
      EDGE_LB: lb,
      CACHE_L1_MAX_ENTRIES: String(L1_ENTRIES),
    });
    md.push(
      '',
      "## 2. Load-balancing algorithms (EDGE_LB) on the callers' own reads",
      '',
      `Each request is one of ${sessions.length} seeded sessions reading its own profile or its own author page (the per-user data an L1 holds), ${connections} connections, ${duration} s, with \`CACHE_L1_MAX_ENTRIES=${L1_ENTRIES}\` so that one process's L1 cannot hold every user. Share = the process's part of its pool's requests (access log); L1 = that process's own L1 hit ratio over the run (its /metrics; the leaderboard and feed pools see no requests here). The load generator is one client address, so ip_hash sends every request of a pool to one process: that is what ip_hash does behind one NAT or proxy.`,
      '',
      '| EDGE_LB | 2xx/s | p50 ms | p99 ms | non-2xx | per process: share of its pool, L1 hit ratio |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const lb of EDGE_LB_ALGORITHMS) {
      log(`EDGE_LB=${lb} …`);
      await up(lbEnv(lb));
      await load(connections, 3, own);
      const before = await l1();
      const offset = logOffset();
      const r = await load(connections, duration, own);
      const lines = await logSince(offset);
      const after = await l1();
      const cells = mains
        .filter((m) => m.service === 'user' || m.service === 'post')
        .map((s) => {
          const addr = `127.0.0.1:${s.port}`;
          const pool = mains
            .filter((m) => m.service === s.service)
            .map((m) => `127.0.0.1:${m.port}`);
          const inPool = lines.filter((l) => pool.includes(l.upstream_addr)).length;
          const mine = lines.filter((l) => l.upstream_addr === addr).length;
          const a = after.get(s.name) ?? { hit: 0, miss: 0 };
          const b = before.get(s.name) ?? { hit: 0, miss: 0 };
          return `${s.name} ${ratio(mine, inPool - mine)}, L1 ${ratio(a.hit - b.hit, a.miss - b.miss)}`;
        });
      md.push(
        `| ${lb} | ${Math.round(r.okRps)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${cells.join('; ')} |`,
      );
      log(`  ${Math.round(r.okRps)} 2xx/s, p99 ${r.p99} ms`);
    }

    // 3 ── a process killed mid-run: how the L1 hit ratio dips and recovers.
    md.push(
      '',
      '## 3. A user process killed mid-run',
      '',
      `The callers' own reads of section 2 for 24 s; at 8 s \`user-1\` gets SIGKILL (the supervisor restarts it; NGINX retries its GETs on \`user-2\` meanwhile). The L1 hit ratio of the user pool per 2 s window (a restarted process starts with an empty L1; under hash_user the killed process's callers move to the other one and back).`,
      '',
      "| EDGE_LB | 2xx/s | non-2xx | user pool L1 hit ratio per 2 s window (kill after the 4th) | share of the user pool's requests served by user-1, per 2 s window |",
      '| --- | --- | --- | --- | --- |',
    );
    for (const lb of ['least_conn', 'hash_user'] as EdgeLb[]) {
      log(`kill mid-run, EDGE_LB=${lb} …`);
      await up(lbEnv(lb));
      await load(connections, 3, own);
      const windows: string[] = [];
      let done = false;
      const offset = logOffset();
      const startedAt = Date.now();
      const sampler = (async () => {
        let prev = await l1();
        for (let w = 0; !done && w < 12; w++) {
          await sleep(2_000);
          const now = await l1();
          let hit = 0;
          let miss = 0;
          for (const [name, n] of [...now].filter(([name]) => name.startsWith('user-'))) {
            const p = prev.get(name) ?? { hit: 0, miss: 0 };
            // a restarted process's counters start again from 0
            hit += n.hit >= p.hit ? n.hit - p.hit : n.hit;
            miss += n.miss >= p.miss ? n.miss - p.miss : n.miss;
          }
          windows.push(ratio(hit, miss));
          prev = now;
          if (w === 3) {
            const victim = readState(t)?.components.find((c) => c.name === 'user-1')?.pid;
            if (victim) {
              process.kill(victim, 'SIGKILL');
            }
          }
        }
      })();
      const r = await load(connections, 24, own);
      done = true;
      await sampler;
      // Which process answered, per window: the keys that moved away from user-1 and back.
      const userPort = (name: string): string =>
        `127.0.0.1:${mains.find((m) => m.name === name)?.port ?? 0}`;
      const [u1, u2] = [userPort('user-1'), userPort('user-2')];
      const perWindow = Array.from({ length: 12 }, () => ({ one: 0, all: 0 }));
      for (const line of await logSince(offset)) {
        const addr = line.upstream_addr.split(', ').pop() ?? '';
        const w = Math.floor((Date.parse(line.time) - startedAt) / 2_000);
        if ((addr === u1 || addr === u2) && w >= 0 && w < perWindow.length) {
          perWindow[w].all++;
          perWindow[w].one += addr === u1 ? 1 : 0;
        }
      }
      const shares = perWindow.map((c) => ratio(c.one, c.all - c.one)).join(' · ');
      md.push(
        `| ${lb} | ${Math.round(r.okRps)} | ${r.non2xx} | ${windows.join(' · ')} | ${shares} |`,
      );
      log(`  L1 windows: ${windows.join(' ')}; user-1 share: ${shares}`);
    }

    // 4 ── transport and compression for one larger answer (a board of 100 as JSON).
    md.push(
      '',
      '## 4. Transport and compression (EDGE_TLS=on, EDGE_COMPRESSION=brotli)',
      '',
      `An author page of up to 50 posts (\`GET /api/posts?author=…&limit=50\`, the largest of the first 50 seeded users) anonymous, ${connections} concurrent requests for ${duration} s from one Node client: HTTP/1.1 over ${connections} keep-alive connections, HTTP/2 as ${connections} streams on one connection. Bytes = the body as sent (compressed or not).`,
      '',
      '| transport | Accept-Encoding | 2xx/s | p50 ms | p99 ms | errors | body bytes |',
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    log('transport: EDGE_TLS=on EDGE_COMPRESSION=brotli …');
    await up({ EDGE_TLS: 'on', EDGE_COMPRESSION: 'brotli' });
    const ca = readFileSync(path.join(t.nginx.dir, 'tls', 'localhost.crt'));
    // The largest author page of the first 50 seeded users: a JSON answer of several kB.
    let boardPath = '';
    let largest = 0;
    for (const id of userIds.slice(0, 50)) {
      const p = `/api/posts?author=${id}&limit=50`;
      const res = await fetch(`${base}${p}`);
      const size = (await res.text()).length;
      if (res.ok && size > largest) {
        [boardPath, largest] = [p, size];
      }
    }
    if (!boardPath) {
      throw new Error('no author page answered 200 for the transport section');
    }
    log(`  transport path ${boardPath} (${largest} B as JSON)`);
    for (const [label, enc, transport] of [
      ['HTTP/1.1', 'identity', 'h1'],
      ['HTTP/1.1', 'gzip', 'h1'],
      ['HTTP/1.1', 'gzip, br', 'h1'],
      ['HTTPS HTTP/1.1', 'gzip', 'h1s'],
      ['HTTPS HTTP/2', 'gzip', 'h2'],
    ] as const) {
      let bytes = 0;
      const client = transportClient(transport, connections, ca);
      try {
        await runClosedLoop(connections, 2_000, () => client.get(boardPath, enc)); // warm-up
        const r = await runClosedLoop(connections, duration * 1000, async () => {
          bytes = await client.get(boardPath, enc);
        });
        md.push(
          `| ${label} | ${enc} | ${Math.round(r.rps)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} | ${bytes} |`,
        );
        log(`  ${label} ${enc}: ${Math.round(r.rps)}/s, p99 ${r.p99.toFixed(1)} ms, ${bytes} B`);
      } finally {
        client.close();
      }
    }
  } finally {
    log('stopping the dev stack …');
    await stopStack().catch((e: unknown) => log(`stack down failed: ${String(e)}`));
  }

  const { dir, date, machine } = reportPlace(values.out);
  const file = path.join(dir, `${date}-${machine}-edge.md`);
  writeFileSync(
    file,
    [
      `# Edge switches, ${date} on ${machine}`,
      '',
      `\`npm run bench:edge -- --duration ${duration} --connections ${connections}\`, one run, the dev stack restarted per setting with the bench environment (tools/bench/bench-env.ts). This machine is shared: the same configuration swings by ±30% between runs, so compare rows of one section, and read the noise row.`,
      '',
      ...md,
      '',
    ].join('\n'),
  );
  log(`done in ${((Date.now() - started) / 60_000).toFixed(1)} min — report ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
