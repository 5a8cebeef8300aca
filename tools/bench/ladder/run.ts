/**
 * The cost ladder: NGINX alone; NGINX → bare Fastify; → a Nest route that does nothing; + the
 * session lookup; + the rate-limit check; + tracing at the bench's ratio; + logging as configured.
 * Each rung runs the same number of processes as a service (2) behind an NGINX of its own with the
 * shared edge config, at the same connection count, and reports req/s, p50/p99 and the CPU time
 * per request of the service processes and of NGINX (from /proc, their own utime + stime).
 * Needs the dev stack's Redis (sessions, limits) and a seeded session.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import {
  buildTopology,
  freePort,
  POOLS,
  runEdge,
  serviceEnv,
  type StartedEdge,
} from '@murmur/stack';
import { BENCH_ENV } from '../bench-env';
import type { LadderStep } from './ladder.config';

/** The bench's raised limits (one load generator is one caller): checked, not tripped. */
const BENCH_LIMITS = Object.fromEntries(
  Object.entries(BENCH_ENV).filter(([k]) => k.startsWith('RATE_LIMIT')),
);

export interface Rung {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** CPU µs per request of the service processes (absent: none) */
  serviceUs?: number;
  /** CPU µs per request of NGINX (master and workers) */
  nginxUs: number;
}

interface RungSpec {
  name: string;
  /** what runs behind NGINX: nothing, bare Fastify, or a ladder step */
  backend: 'none' | 'bare' | LadderStep;
  path: string;
  auth: boolean;
  env?: Record<string, string>;
}

const t = buildTopology({ profile: 'dev' });
const TICKS_PER_SECOND = 100; // Linux USER_HZ

/** utime + stime of a process and its children's threads, in clock ticks. */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** NGINX's master and workers (the workers are the master's children). */
function nginxPids(master: number): number[] {
  try {
    const children = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    return [master, ...children];
  } catch {
    return [master];
  }
}

async function waitReady(port: number, pathName: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}${pathName}`).then(
      (r) => r.status < 500,
      () => false,
    );
    if (ok) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`ladder process on ${port} did not get ready`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startBackends(spec: RungSpec, otlp: string | undefined): Promise<ChildProcess[]> {
  if (spec.backend === 'none') {
    return [];
  }
  const user = t.services.find((s) => s.service === 'user' && s.entry === 'main');
  if (!user) {
    throw new Error('no user service in the dev topology');
  }
  const procs: ChildProcess[] = [];
  for (let i = 1; i <= 2; i++) {
    const port = await freePort();
    const script =
      spec.backend === 'bare'
        ? path.join(t.root, 'dist/tools/bench/ladder/bare.js')
        : path.join(t.root, 'dist/tools/bench/ladder/main.js');
    const env = {
      PATH: process.env.PATH ?? '',
      ...serviceEnv(t, { ...user, name: `ladder-${i}`, port }, { otlpEndpoint: otlp }),
      ...BENCH_LIMITS,
      LADDER_STEP: spec.backend,
      TRACING_ENABLED: 'false',
      LOG_LEVEL: 'silent',
      ...spec.env,
    };
    const child = spawn(process.execPath, [script], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    procs.push(child);
    await waitReady(port, spec.backend === 'bare' ? '/' : '/health/live');
    (child as ChildProcess & { port?: number }).port = port;
  }
  return procs;
}

async function stopAll(procs: ChildProcess[]): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null) {
            resolve();
            return;
          }
          p.once('exit', () => resolve());
          p.kill('SIGTERM');
        }),
    ),
  );
}

/** The rungs, each adding one part to the one before. */
export function ladderRungs(sampleRatio: string): RungSpec[] {
  const tracing = { TRACING_ENABLED: 'true', OTEL_TRACES_SAMPLER_ARG: sampleRatio };
  return [
    { name: 'NGINX alone (/nginx/health)', backend: 'none', path: '/nginx/health', auth: false },
    {
      name: 'NGINX → bare Fastify',
      backend: 'bare',
      path: '/api/users/ladder/nothing',
      auth: false,
    },
    {
      name: 'NGINX → Nest route doing nothing',
      backend: 'nest',
      path: '/api/users/ladder/nothing',
      auth: false,
    },
    {
      name: '+ session lookup, Redis on every request (SESSION_CACHE_TTL_MS=0)',
      backend: 'session',
      path: '/api/users/ladder/session',
      auth: true,
      env: { SESSION_CACHE_TTL_MS: '0' },
    },
    {
      name: '+ session lookup, in-process session cache (as configured)',
      backend: 'session',
      path: '/api/users/ladder/session',
      auth: true,
    },
    {
      name: '+ rate-limit check (per-caller limit)',
      backend: 'ratelimit',
      path: '/api/users/ladder/session',
      auth: true,
    },
    {
      name: `+ tracing at ${sampleRatio}, OpenTelemetry's HTTP instrumentation for the server span (before)`,
      backend: 'ratelimit',
      path: '/api/users/ladder/session',
      auth: true,
      env: { ...tracing, TRACING_INSTRUMENTATIONS: 'http,nestjs,pg,ioredis,grpc,pino' },
    },
    {
      name: `+ tracing at ${sampleRatio}, Murmur's server span alone (TRACING_INSTRUMENTATIONS=server)`,
      backend: 'ratelimit',
      path: '/api/users/ladder/session',
      auth: true,
      env: { ...tracing, TRACING_INSTRUMENTATIONS: 'server' },
    },
    {
      name: `+ tracing at ${sampleRatio} (as configured: server span, pg, ioredis, grpc, pino)`,
      backend: 'ratelimit',
      path: '/api/users/ladder/session',
      auth: true,
      env: tracing,
    },
    {
      name: '+ logging as configured (info; 2xx not logged)',
      backend: 'ratelimit',
      path: '/api/users/ladder/session',
      auth: true,
      env: { ...tracing, LOG_LEVEL: 'info' },
    },
  ];
}

export async function runLadder(options: {
  connections: number;
  duration: number;
  /** seeded sessions, one picked per request */
  tokens: string[];
  sampleRatio: string;
  otlp?: string;
  log: (msg: string) => void;
}): Promise<Rung[]> {
  const rungs: Rung[] = [];
  for (const spec of ladderRungs(options.sampleRatio)) {
    options.log(`ladder: ${spec.name} …`);
    const procs = await startBackends(spec, options.otlp);
    let edge: StartedEdge | undefined;
    try {
      const servers = procs.map((p) => `127.0.0.1:${(p as ChildProcess & { port: number }).port}`);
      edge = await runEdge(t.root, {
        rateLimits: { api: false, auth: false },
        workerProcesses: 'auto',
        // the access log as the stack writes it (buffered), not the tests' unbuffered one
        accessLogBuffered: true,
        pools: POOLS.map((name) => ({
          name,
          servers: servers.length > 0 ? servers : ['127.0.0.1:9'],
        })),
      });
      const headers = (): Record<string, string> =>
        spec.auth
          ? {
              authorization: `Bearer ${options.tokens[Math.floor(Math.random() * options.tokens.length)]}`,
            }
          : {};
      const requests = [{ setupRequest: (req: object) => ({ ...req, headers: headers() }) }];
      const url = `${edge.base}${spec.path}`;
      // A rung that does not answer 2xx measures nothing: stop with what it said.
      const probe = await fetch(url, { headers: headers() });
      if (!probe.ok) {
        throw new Error(`${spec.name}: ${url} answered ${probe.status} ${await probe.text()}`);
      }
      await autocannon({ url, connections: options.connections, duration: 2, requests });
      const pids = procs.map((p) => p.pid ?? 0);
      const nginx = nginxPids(edge.pid);
      const svcBefore = pids.reduce((a, p) => a + cpuTicks(p), 0);
      const ngxBefore = nginx.reduce((a, p) => a + cpuTicks(p), 0);
      const r = await autocannon({
        url,
        connections: options.connections,
        duration: options.duration,
        requests,
      });
      const svc = pids.reduce((a, p) => a + cpuTicks(p), 0) - svcBefore;
      const ngx = nginx.reduce((a, p) => a + cpuTicks(p), 0) - ngxBefore;
      const answered = Math.max(1, r.requests.total);
      const us = (ticks: number): number => (ticks / TICKS_PER_SECOND / answered) * 1e6;
      rungs.push({
        name: spec.name,
        rps: r['2xx'] / options.duration,
        p50: r.latency.p50,
        p99: r.latency.p99,
        non2xx: r.non2xx + r.errors + r.timeouts,
        serviceUs: procs.length > 0 ? us(svc) : undefined,
        nginxUs: us(ngx),
      });
      options.log(
        `  ${Math.round(r['2xx'] / options.duration)} 2xx/s, p99 ${r.latency.p99} ms, service ${procs.length > 0 ? us(svc).toFixed(0) : '—'} µs/req, nginx ${us(ngx).toFixed(0)} µs/req`,
      );
    } finally {
      await edge?.stop();
      await stopAll(procs);
    }
  }
  return rungs;
}

/** The ladder as a Markdown table, each rung's share of the bare-Fastify rung. */
export function ladderTable(rungs: Rung[]): string {
  const bare = rungs.find((r) => r.name.includes('bare Fastify'))?.rps ?? NaN;
  return [
    '| rung | 2xx/s | of bare Fastify | p50 ms | p99 ms | non-2xx | service CPU µs/req | NGINX CPU µs/req |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rungs.map(
      (r) =>
        `| ${r.name} | ${Math.round(r.rps)} | ${((100 * r.rps) / bare).toFixed(0)}% | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.serviceUs === undefined ? '—' : r.serviceUs.toFixed(0)} | ${r.nginxUs.toFixed(0)} |`,
    ),
  ].join('\n');
}
