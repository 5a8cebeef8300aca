import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import {
  nginxComponent,
  type EdgeRuntime,
  type PgRuntime,
  postgresComponent,
  memcachedComponent,
  redisComponent,
  serviceComponent,
} from './components';
import {
  assignPrimary,
  type FailoverHost,
  type FailoverSummary,
  runFailover,
  writePrimaries,
} from './failover';
import { LogSink } from './log-sink';
import {
  EDGE_RATE_LIMIT_DEFAULTS,
  edgeMaxConnsFromEnv,
  edgeRateLimitsFromEnv,
} from './nginx-config';
import {
  edgeCacheFromEnv,
  edgeCompressionFromEnv,
  edgeLbFromEnv,
  edgeTlsFromEnv,
} from './edge-features';
import { linePrefix, seconds } from './output';
import {
  assertReachable,
  ensureDatabase,
  initPrimary,
  initReplica,
  isInitialised,
  ownDir,
  pgBinDir,
  pgIdentity,
  pgReady,
  pgStreaming,
  pgStreamingFrom,
} from './postgres';
import { ComponentError, ProcessGroup } from './process-group';
import { childEnv, killStackProcesses, nodeBinary, STACK_MARKER } from './processes';
import { type StackState, writeState } from './state';
import { serviceEnv, type Topology } from './topology';

export interface SupervisorOptions {
  only?: 'infra';
  otlpEndpoint?: string;
  /**
   * Foreground (`npm start`): every child's output on our stdout, each line prefixed with its
   * name, and copied to its log. Otherwise (`up`) each child writes straight into its log file,
   * so that the logs survive the supervisor and it copies no bytes under load.
   */
  echo: boolean;
}

/**
 * The local stack: its topology turned into rows of the component table (`components.ts`),
 * started phase by phase in dependency order (Postgres primaries, their replicas, Redis,
 * migrations, services, NGINX) by a generic process group that restarts crashed processes with
 * backoff and stops everything in reverse order. The supervisor adds what is particular to this
 * stack: databases to create, replicas to copy, the control socket (a failover), state.json.
 */
export class Supervisor {
  private stopping = false;
  private readonly state: StackState;
  private readonly started = Date.now();
  private readonly width: number;
  private readonly colour = process.stdout.isTTY === true;
  private readonly node: string;
  private readonly logs: LogSink;
  private readonly group: ProcessGroup;
  /** who runs Postgres and where its binaries are (set in the prepare phase) */
  private readonly pg: PgRuntime = { id: { superuser: '' }, bin: '' };
  private control?: Server;
  private failingOver = false;

  constructor(
    private readonly t: Topology,
    private readonly options: SupervisorOptions,
  ) {
    this.state = {
      supervisorPid: process.pid,
      profile: t.profile,
      only: options.only,
      otlpEndpoint: options.otlpEndpoint,
      nginxPort: t.nginx.port,
      ready: false,
      components: [],
      startedAt: Date.now(),
    };
    this.width = Math.max(
      ...[...t.postgres, ...t.redis, ...t.memcached, ...t.services].map((c) => c.name.length),
      'migrate'.length,
    );
    this.node = nodeBinary(t.root);
    this.logs = new LogSink(t.logDir, options.echo, this.width, this.colour);
    this.group = new ProcessGroup({
      logs: this.logs,
      echo: options.echo,
      note: (m) => this.note(m),
      changed: () => this.save(),
      gaveUp: (name, why) => {
        this.state.failed = this.state.failed ?? name;
        this.state.error = this.state.error ?? why;
        this.save();
      },
    });
  }

  async start(): Promise<void> {
    mkdirSync(this.t.logDir, { recursive: true });
    this.note(
      `── ${this.t.profile} stack${this.options.only ? ` (only ${this.options.only})` : ''}, ` +
        `supervisor pid ${process.pid}, ${new Date().toISOString()}`,
    );
    // Every child inherits the marker, so `down` can find them even if this process dies.
    process.env[STACK_MARKER] = this.t.stateDir;
    this.save();

    let edge: EdgeRuntime = {
      rateLimits: EDGE_RATE_LIMIT_DEFAULTS,
    };
    await this.phase('prepare', async () => {
      const leftovers = await killStackProcesses(this.t.stateDir);
      if (leftovers > 0) {
        this.note(`stopped ${leftovers} processes left by an earlier run`);
      }
      await this.checkPorts();
      // Read now, so a bad EDGE_* value fails the start before anything runs.
      try {
        edge = {
          rateLimits: edgeRateLimitsFromEnv(process.env),
          maxConns: edgeMaxConnsFromEnv(process.env),
          lb: edgeLbFromEnv(process.env),
          edgeCache: edgeCacheFromEnv(process.env),
          compression: edgeCompressionFromEnv(process.env),
          tls: edgeTlsFromEnv(process.env),
        };
      } catch (error) {
        throw new ComponentError('nginx', (error as Error).message);
      }
      this.pg.id = pgIdentity();
      this.pg.bin = pgBinDir();
      mkdirSync(path.join(this.t.stateDir, 'pg'), { recursive: true });
      assertReachable(this.pg.id, this.t.stateDir);
      ownDir(this.pg.id, path.join(this.t.stateDir, 'pg'));
    });
    const { id, bin } = this.pg;
    const freshClusters = new Set<string>();

    await this.phase('postgres primaries', async () => {
      const primaries = this.t.postgres.filter((n) => n.role === 'primary');
      await Promise.all(
        primaries.map(async (node) => {
          if (!isInitialised(node)) {
            this.note(`initdb ${node.name}`);
            await initPrimary(this.t, node, id, bin);
            freshClusters.add(node.cluster);
          }
          await this.group.start(postgresComponent(this.t, node, this.pg));
          const db = node.cluster === 'main' ? this.t.database.name : this.t.database.shardDatabase;
          await ensureDatabase(node.port, id.superuser, this.t.database.user, db);
        }),
      );
    });

    await this.phase('postgres replicas', async () => {
      const replicas = this.t.postgres.filter((n) => n.role === 'replica');
      await Promise.all(
        replicas.map(async (node) => {
          // A replica of a primary made just now would belong to an older cluster: copy it again.
          if (freshClusters.has(node.cluster) || !isInitialised(node)) {
            this.note(`pg_basebackup ${node.name} from :${node.primaryPort}`);
            await initReplica(node, id, bin);
          }
          await this.group.start(postgresComponent(this.t, node, this.pg));
          await this.group.waitFor(
            node.name,
            () => pgStreaming(node.port, id.superuser),
            30_000,
            'streaming from its primary',
          );
        }),
      );
    });

    await this.phase('redis', async () => {
      await Promise.all(this.t.redis.map((r) => this.group.start(redisComponent(r))));
    });
    // Started whatever CACHE_L2_BACKEND says: switching the backend is then a service restart,
    // and the stack specs and the bench can use either.
    await this.phase('memcached', async () => {
      await Promise.all(this.t.memcached.map((m) => this.group.start(memcachedComponent(m))));
    });

    if (this.options.only !== 'infra') {
      await this.phase('migrations', () => this.migrate());
      const runtime = {
        node: this.node,
        otlpEndpoint: this.options.otlpEndpoint,
        switches: patternSwitches(process.env),
      };
      await this.phase('services', async () => {
        await Promise.all(
          this.t.services.map((s) => this.group.start(serviceComponent(this.t, s, runtime))),
        );
      });
      await this.phase('nginx', () => this.group.start(nginxComponent(this.t, edge)));
    }

    await this.listenForControl();
    this.state.ready = true;
    this.state.readyAt = Date.now();
    this.save();
    this.note(`ready in ${seconds(Date.now() - this.started)}`);
  }

  async stop(): Promise<void> {
    if (this.stopping) {
      return;
    }
    this.stopping = true;
    this.note('stopping');
    this.control?.close();
    const t0 = Date.now();
    // Reverse dependency order (the table's stop ranks): nothing loses its database or Redis
    // while still serving.
    await this.group.stopAll();
    this.logs.close();
    this.state.ready = false;
    this.save();
    this.note(`stopped in ${seconds(Date.now() - t0)}`);
  }

  private async phase(name: string, fn: () => Promise<void>): Promise<void> {
    const t0 = Date.now();
    this.note(`▶ ${name}`);
    try {
      await fn();
    } catch (error) {
      const component = error instanceof ComponentError ? error.component : name;
      this.state.failed = this.state.failed ?? component;
      this.state.error = error instanceof Error ? error.message : String(error);
      this.save();
      throw error;
    }
    this.note(`✔ ${name} (${seconds(Date.now() - t0)})`);
  }

  /** Fail early and by name when a port of ours is taken (often: a stack of another checkout). */
  private async checkPorts(): Promise<void> {
    const wanted: Array<{ name: string; port: number }> = [
      ...this.t.postgres,
      ...this.t.redis,
      ...this.t.memcached,
    ];
    if (this.options.only !== 'infra') {
      wanted.push(...this.t.services, this.t.nginx);
      if (edgeTlsFromEnv(process.env)) {
        wanted.push({ name: 'nginx (EDGE_TLS)', port: this.t.nginx.tlsPort });
      }
    }
    const taken = (
      await Promise.all(wanted.map(async (w) => ((await portFree(w.port)) ? undefined : w)))
    ).filter((w) => w !== undefined);
    if (taken.length > 0) {
      const first = taken[0];
      throw new ComponentError(
        first.name,
        `port${taken.length > 1 ? 's' : ''} ${taken.map((w) => `${w.port} (${w.name})`).join(', ')} ` +
          'already in use on 127.0.0.1 by another program',
      );
    }
  }

  /** The one-shot migrate command: run to completion before any service starts. */
  private async migrate(): Promise<void> {
    const entry = path.join(this.t.root, 'dist', 'tools', 'migrate', 'main.js');
    if (!existsSync(entry)) {
      throw new ComponentError('migrate', `${entry} is missing: build first (npm run build)`);
    }
    const code = await new Promise<number>((resolve) => {
      const child = spawn(this.node, [entry], {
        cwd: this.t.root,
        env: childEnv(process.env, migrateEnv(this.t)),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.logs.capture('migrate', child);
      child.on('error', () => resolve(1));
      child.on('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
      throw new ComponentError(
        'migrate',
        `migrations failed with code ${code} (see ${this.logs.file('migrate')})`,
      );
    }
  }

  /**
   * The control socket (`<stateDir>/control.sock`): one JSON request per connection, answered
   * with JSON lines — `{progress}` while it runs, then `{done}` or `{error}`. It carries what only
   * the owner of the processes can do; today a failover (`npm run stack:failover`).
   */
  private async listenForControl(): Promise<void> {
    const file = controlSocket(this.t);
    rmSync(file, { force: true });
    const server = createServer((socket) => {
      let input = '';
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        input += chunk.toString();
        if (!input.includes('\n')) {
          return;
        }
        const send = (message: object): void => {
          if (!socket.destroyed) {
            socket.write(`${JSON.stringify(message)}\n`);
          }
        };
        void this.handleControl(input.slice(0, input.indexOf('\n')), (line) => {
          this.note(line);
          send({ progress: line });
        })
          .then((done) => send({ done }))
          .catch((error: unknown) => {
            const message = error instanceof Error ? error.message : String(error);
            this.note(`failover failed: ${message}`);
            send({ error: message });
          })
          .finally(() => socket.end());
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(file, () => resolve());
      });
    } catch (error) {
      // e.g. a checkout so deep that the socket path passes the 107-byte limit: the stack runs,
      // only `stack:failover` cannot reach it.
      this.note(`no control socket at ${file} (${(error as Error).message}): no failover`);
      return;
    }
    server.unref();
    this.control = server;
  }

  private async handleControl(
    line: string,
    progress: (line: string) => void,
  ): Promise<FailoverSummary> {
    const request = JSON.parse(line) as { op?: string; cluster?: string; to?: string };
    if (request.op !== 'failover' || typeof request.cluster !== 'string') {
      throw new Error(`unknown request ${line}`);
    }
    if (this.failingOver) {
      throw new Error('a failover is already running');
    }
    this.failingOver = true;
    try {
      progress(`failover of ${request.cluster} requested`);
      return await runFailover(
        this.failoverHost(),
        { cluster: request.cluster, to: request.to },
        progress,
      );
    } finally {
      this.failingOver = false;
    }
  }

  private failoverHost(): FailoverHost {
    return {
      topology: this.t,
      superuser: this.pg.id.superuser,
      fence: (node, how) => this.group.fence(node.name, how),
      rebuild: async (node, primary) => {
        await this.group.fence(node.name, 'stop');
        node.role = 'replica';
        node.primaryPort = primary.port;
        await initReplica(node, this.pg.id, this.pg.bin);
        if (this.state.failed === node.name) {
          this.state.failed = undefined;
          this.state.error = undefined;
        }
        // The component's prepare step writes the node's settings as a replica of `primary`.
        this.group.relaunch(node.name, 'replica');
        const superuser = this.pg.id.superuser;
        await this.group.waitFor(node.name, () => pgReady(node.port, superuser), 30_000);
        await this.group.waitFor(
          node.name,
          () => pgStreamingFrom(node.port, superuser, primary.port),
          30_000,
          `streaming from ${primary.name}`,
        );
      },
      setPrimary: (cluster, primary) => {
        assignPrimary(this.t, cluster, primary.name);
        for (const n of this.t.postgres.filter((p) => p.cluster === cluster)) {
          this.group.setRole(n.name, n.role);
        }
        writePrimaries(this.t);
        this.save();
      },
      servicePrimaries: (cluster) =>
        Promise.all(
          this.t.services.map(async (s) => ({
            name: s.name,
            primary: await reportedPrimary(s.port, cluster),
          })),
        ),
    };
  }

  private note(message: string): void {
    const elapsed = `${((Date.now() - this.started) / 1000).toFixed(1)}s`.padStart(6);
    process.stdout.write(`${linePrefix('stack', this.width, this.colour)}${elapsed} ${message}\n`);
  }

  private save(): void {
    // Topology order (not the order parallel starts happened to finish in): stable tables.
    const order = [
      ...this.t.postgres,
      ...this.t.redis,
      ...this.t.memcached,
      ...this.t.services,
      this.t.nginx,
    ].map((c) => c.name);
    this.state.components = this.group
      .states()
      .sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    writeState(this.t, this.state);
  }
}

/** The environment of the one-shot migrate command: the database part of a service's env. */
export function migrateEnv(t: Topology): Record<string, string> {
  const first = t.services[0];
  return serviceEnv(t, first, {
    extra: { SERVICE_NAME: 'migrate', INSTANCE_NAME: 'migrate', OTEL_SERVICE_NAME: 'migrate' },
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
}

/**
 * Pattern switches and limits set in the environment of `npm start` / `stack:up` reach every
 * service process (e.g. `CACHE_L1_ENABLED=false npm run stack:up` for a pattern-off benchmark run).
 * Only these prefixes pass: the rest of the caller's environment does not leak into the services.
 */
export function patternSwitches(env: NodeJS.ProcessEnv): Record<string, string> {
  const pass =
    /^(RATE_LIMIT|CACHE_|READ_REPLICAS_|TRACING_|FANOUT_|FANIN_|QUEUE_|WRITE_BEHIND_|LEADERBOARD_TOP_CACHE_|SHED_|SIMULATED_STORE_LATENCY_MS$|OTEL_TRACES_SAMPLER_ARG$|REQUEST_DEADLINE_MS$|REDIS_COMMAND_TIMEOUT_MS$|MEMCACHED_TIMEOUT_MS$|POST_GRPC_TIMEOUT_MS$|FEED_POST_CACHE_TTL_MS$)/;
  return Object.fromEntries(
    Object.entries(env).filter(
      (e): e is [string, string] => pass.test(e[0]) && typeof e[1] === 'string',
    ),
  );
}

/** Where the supervisor listens for control requests (a failover). */
export const controlSocket = (t: Topology): string => path.join(t.stateDir, 'control.sock');

/**
 * The primary a service process writes `cluster` to, from its readiness details: the node's
 * address, null while it knows none (or does not answer), undefined if it does not use `cluster`.
 */
async function reportedPrimary(port: number, cluster: string): Promise<string | null | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health/ready`, {
      signal: AbortSignal.timeout(1000),
    });
    const body = (await res.json()) as { details?: Record<string, { node?: string | null }> };
    const check = body.details?.[`postgres-${cluster}-primary`];
    return check === undefined ? undefined : (check.node ?? null);
  } catch {
    return null;
  }
}
