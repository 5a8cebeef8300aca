import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  rmSync,
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import {
  EDGE_RATE_LIMIT_DEFAULTS,
  edgeMaxConnsFromEnv,
  edgeRateLimitsFromEnv,
  NGINX_TEMP_DIRS,
  renderNginxConfig,
  type EdgeRateLimits,
} from './nginx-config';
import {
  assignPrimary,
  type FailoverHost,
  type FailoverSummary,
  runFailover,
  writePrimaries,
} from './failover';
import { LineSplitter, linePrefix, prettyLogLine, seconds } from './output';
import {
  assertReachable,
  ensureDatabase,
  initPrimary,
  initReplica,
  isInitialised,
  ownDir,
  pgBinDir,
  pgIdentity,
  type PgIdentity,
  pgReady,
  pgStreaming,
  pgStreamingFrom,
  postgresCommand,
  removeStalePidFile,
  writeNodeSettings,
} from './postgres';
import {
  childEnv,
  killStackProcesses,
  nodeBinary,
  signalProcessTree,
  STACK_MARKER,
} from './processes';
import { httpOk, redisPing, sleep, until } from './probes';
import { redisArgs } from './redis';
import { type ComponentKind, type ComponentState, type StackState, writeState } from './state';
import {
  type PostgresNode,
  type RedisNode,
  serviceEntry,
  serviceEnv,
  type ServiceProcess,
  type Topology,
} from './topology';

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

interface SpawnSpec {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
  cwd?: string;
}

interface Child {
  state: ComponentState;
  spec: SpawnSpec;
  restartable: boolean;
  stopSignal: NodeJS.Signals;
  proc?: ChildProcess;
  launchedAt?: number;
  /** set when the child exited and will not be restarted: why */
  gaveUp?: string;
  /** stopped on purpose by a failover: its exit is no crash */
  fenced?: boolean;
}

/** Restarts of a crashed process before the supervisor gives up on it; the delay doubles. */
const MAX_RESTARTS = 5;
const FIRST_RESTART_DELAY_MS = 500;
const RESTART_RESET_MS = 60_000;
/** How long a process may take to stop cleanly before it is killed. */
const STOP_GRACE_MS = 15_000;

export class StackStartError extends Error {
  constructor(
    readonly component: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts the local stack in dependency order (Postgres primaries, their replicas, Redis,
 * migrations, services, NGINX), waits for each to be healthy, restarts crashed services with
 * backoff, and stops everything in reverse order.
 */
export class Supervisor {
  private readonly children: Child[] = [];
  private readonly logs = new Map<string, WriteStream>();
  private stopping = false;
  private readonly state: StackState;
  private readonly started = Date.now();
  private readonly width: number;
  private readonly colour = process.stdout.isTTY === true;
  private readonly node: string;
  private edgeRateLimits: EdgeRateLimits = EDGE_RATE_LIMIT_DEFAULTS;
  private edgeMaxConns: number | undefined;
  /** who runs Postgres and where its binaries are (set in the prepare phase) */
  private pg: { id: PgIdentity; bin: string } = { id: { superuser: '' }, bin: '' };
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
      ...[...t.postgres, ...t.redis, ...t.services].map((c) => c.name.length),
      'migrate'.length,
    );
    this.node = nodeBinary(t.root);
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

    let id: PgIdentity = { superuser: '' };
    let bin = '';
    await this.phase('prepare', async () => {
      const leftovers = await killStackProcesses(this.t.stateDir);
      if (leftovers > 0) {
        this.note(`stopped ${leftovers} processes left by an earlier run`);
      }
      await this.checkPorts();
      // Read now, so a bad EDGE_* value fails the start before anything runs.
      try {
        this.edgeRateLimits = edgeRateLimitsFromEnv(process.env);
        this.edgeMaxConns = edgeMaxConnsFromEnv(process.env);
      } catch (error) {
        throw new StackStartError('nginx', (error as Error).message);
      }
      id = pgIdentity();
      bin = pgBinDir();
      this.pg = { id, bin };
      mkdirSync(path.join(this.t.stateDir, 'pg'), { recursive: true });
      assertReachable(id, this.t.stateDir);
      ownDir(id, path.join(this.t.stateDir, 'pg'));
    });
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
          await this.startPostgres(node, id, bin);
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
          await this.startPostgres(node, id, bin);
          await this.waitFor(node.name, () => pgStreaming(node.port, id.superuser), 30_000, {
            what: 'streaming from its primary',
          });
        }),
      );
    });

    await this.phase('redis', async () => {
      await Promise.all(this.t.redis.map((r) => this.startRedis(r)));
    });

    if (this.options.only !== 'infra') {
      await this.phase('migrations', () => this.migrate());
      await this.phase('services', async () => {
        await Promise.all(this.t.services.map((s) => this.startService(s)));
      });
      await this.phase('nginx', () => this.startNginx());
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
    // Reverse dependency order: nothing loses its database or Redis while still serving.
    const order: Array<(c: Child) => boolean> = [
      (c) => c.state.kind === 'nginx',
      (c) => c.state.kind === 'service',
      (c) => c.state.kind === 'redis',
      (c) => c.state.kind === 'postgres' && c.state.role === 'replica',
      (c) => c.state.kind === 'postgres',
    ];
    for (const group of order) {
      await Promise.all(this.children.filter(group).map((c) => this.kill(c)));
    }
    for (const log of this.logs.values()) {
      log.end();
    }
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
      const component = error instanceof StackStartError ? error.component : name;
      this.state.failed = this.state.failed ?? component;
      this.state.error = error instanceof Error ? error.message : String(error);
      this.save();
      throw error;
    }
    this.note(`✔ ${name} (${seconds(Date.now() - t0)})`);
  }

  /** Fail early and by name when a port of ours is taken (often: a stack of another checkout). */
  private async checkPorts(): Promise<void> {
    const wanted: Array<{ name: string; port: number }> = [...this.t.postgres, ...this.t.redis];
    if (this.options.only !== 'infra') {
      wanted.push(...this.t.services, this.t.nginx);
    }
    const taken = (
      await Promise.all(wanted.map(async (w) => ((await portFree(w.port)) ? undefined : w)))
    ).filter((w) => w !== undefined);
    if (taken.length > 0) {
      const first = taken[0];
      throw new StackStartError(
        first.name,
        `port${taken.length > 1 ? 's' : ''} ${taken.map((w) => `${w.port} (${w.name})`).join(', ')} ` +
          'already in use on 127.0.0.1 by another program',
      );
    }
  }

  private async startPostgres(node: PostgresNode, id: PgIdentity, bin: string): Promise<void> {
    writeNodeSettings(this.t, node, id);
    removeStalePidFile(node, id, bin);
    this.spawnChild({
      name: node.name,
      kind: 'postgres',
      role: node.role,
      port: node.port,
      // A crashed Postgres needs a look (its log), not a silent restart loop.
      restartable: false,
      stopSignal: 'SIGINT',
      spec: { ...postgresCommand(node, bin), uid: id.uid, gid: id.gid, cwd: node.dataDir },
    });
    await this.waitFor(node.name, () => pgReady(node.port, id.superuser), 30_000);
  }

  private async startRedis(node: RedisNode): Promise<void> {
    mkdirSync(node.dataDir, { recursive: true });
    this.spawnChild({
      name: node.name,
      kind: 'redis',
      role: node.purpose,
      port: node.port,
      restartable: true,
      stopSignal: 'SIGTERM',
      spec: { cmd: 'redis-server', args: redisArgs(node), cwd: node.dataDir },
    });
    await this.waitFor(node.name, () => redisPing(node.port), 15_000);
  }

  private async migrate(): Promise<void> {
    const entry = path.join(this.t.root, 'dist', 'tools', 'migrate', 'main.js');
    if (!existsSync(entry)) {
      throw new StackStartError('migrate', `${entry} is missing: build first (npm run build)`);
    }
    const code = await new Promise<number>((resolve) => {
      const child = spawn(this.node, [entry], {
        cwd: this.t.root,
        env: childEnv(process.env, migrateEnv(this.t)),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.capture('migrate', child);
      child.on('error', () => resolve(1));
      child.on('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
      throw new StackStartError(
        'migrate',
        `migrations failed with code ${code} (see ${path.join(this.t.logDir, 'migrate.log')})`,
      );
    }
  }

  private async startService(s: ServiceProcess): Promise<void> {
    const entry = path.join(this.t.root, serviceEntry(s));
    if (!existsSync(entry)) {
      throw new StackStartError(s.name, `${entry} is missing: build first (npm run build)`);
    }
    const env = serviceEnv(this.t, s, {
      otlpEndpoint: this.options.otlpEndpoint,
      extra: patternSwitches(process.env),
    });
    this.spawnChild({
      name: s.name,
      kind: 'service',
      role: s.entry === 'worker' ? `${s.service} worker` : `${s.service} service`,
      port: s.port,
      restartable: true,
      stopSignal: 'SIGTERM',
      spec: { cmd: this.node, args: [entry], env, cwd: this.t.root },
    });
    await this.waitFor(s.name, () => httpOk(`http://127.0.0.1:${s.port}/health/ready`), 60_000);
  }

  private async startNginx(): Promise<void> {
    const dir = this.t.nginx.dir;
    const nginx = findNginx();
    const workerUser = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
    for (const sub of NGINX_TEMP_DIRS) {
      const tmp = path.join(dir, 'tmp', sub);
      mkdirSync(tmp, { recursive: true });
      // Workers write request bodies and proxied responses here after dropping root.
      if (workerUser) {
        chownSync(tmp, workerUser.uid, workerUser.gid);
      }
    }
    const conf = path.join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      renderNginxConfig(this.t, {
        sharedDir: path.join(this.t.root, 'infra', 'nginx', 'conf.d'),
        workerUser: workerUser?.directive,
        rateLimits: this.edgeRateLimits,
        maxConns: this.edgeMaxConns,
      }),
    );
    // `-e stderr`: the log NGINX opens before reading its config, which would otherwise be
    // /var/log/nginx/error.log (not writable without root).
    const args = ['-e', 'stderr', '-p', dir, '-c', conf];
    const check = spawnSync(nginx, [...args, '-t', '-q'], { encoding: 'utf8' });
    if (check.status !== 0) {
      throw new StackStartError('nginx', `nginx -t failed for ${conf}:\n${check.stderr.trim()}`);
    }
    this.spawnChild({
      name: 'nginx',
      kind: 'nginx',
      role: 'edge',
      port: this.t.nginx.port,
      restartable: true,
      stopSignal: 'SIGQUIT',
      spec: { cmd: nginx, args: [...args, '-g', 'daemon off;'], cwd: dir },
    });
    await this.waitFor(
      'nginx',
      () => httpOk(`http://127.0.0.1:${this.t.nginx.port}/nginx/health`),
      10_000,
    );
  }

  private spawnChild(c: {
    name: string;
    kind: ComponentKind;
    role: string;
    port: number;
    restartable: boolean;
    stopSignal: NodeJS.Signals;
    spec: SpawnSpec;
  }): Child {
    const child: Child = {
      state: {
        name: c.name,
        kind: c.kind,
        role: c.role,
        port: c.port,
        healthy: false,
        restarts: 0,
      },
      spec: c.spec,
      restartable: c.restartable,
      stopSignal: c.stopSignal,
    };
    this.children.push(child);
    this.launch(child);
    return child;
  }

  private launch(child: Child): void {
    const s = child.spec;
    const logFile = path.join(this.t.logDir, `${child.state.name}.log`);
    const fd = this.options.echo ? undefined : openSync(logFile, 'a');
    // detached: its own process group, so a Ctrl-C in the terminal reaches only the supervisor,
    // which then stops everything in order.
    const proc = spawn(s.cmd, s.args, {
      env: childEnv(process.env, s.env),
      uid: s.uid,
      gid: s.gid,
      cwd: s.cwd,
      detached: true,
      stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    });
    if (fd !== undefined) {
      closeSync(fd);
    }
    child.proc = proc;
    child.launchedAt = Date.now();
    child.state.pid = proc.pid;
    if (fd === undefined) {
      this.capture(child.state.name, proc);
    }
    proc.on('error', (error) => {
      this.note(`${child.state.name}: could not start ${s.cmd}: ${error.message}`);
    });
    proc.on('exit', (code, signal) => void this.onExit(child, proc, code, signal));
    this.save();
  }

  /**
   * Copy a child's output to its log (as written: pino JSON) and, prefixed with its name and one
   * line per event (`prettyLogLine`), to our stdout.
   */
  private capture(name: string, proc: ChildProcess): void {
    let log = this.logs.get(name);
    if (!log) {
      log = createWriteStream(path.join(this.t.logDir, `${name}.log`), { flags: 'a' });
      this.logs.set(name, log);
    }
    const out = log;
    const prefix = linePrefix(name, this.width, this.colour);
    for (const stream of [proc.stdout, proc.stderr]) {
      const lines = new LineSplitter();
      const write = (batch: string[]): void => {
        if (batch.length > 0 && this.options.echo) {
          process.stdout.write(batch.map((l) => `${prefix}${prettyLogLine(l)}\n`).join(''));
        }
      };
      stream?.on('data', (chunk: Buffer) => {
        out.write(chunk);
        write(lines.push(chunk.toString()));
      });
      stream?.on('end', () => write(lines.flush()));
    }
  }

  private async onExit(
    child: Child,
    proc: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): Promise<void> {
    if (child.proc !== proc) {
      return;
    }
    child.state.healthy = false;
    child.state.pid = undefined;
    this.save();
    if (this.stopping || child.fenced) {
      return;
    }
    const how = signal ? `signal ${signal}` : `code ${code}`;
    const name = child.state.name;
    // A process that ran for a while before crashing starts a new series of quick restarts;
    // only a crash loop exhausts them.
    if (Date.now() - (child.launchedAt ?? 0) > RESTART_RESET_MS) {
      child.state.restarts = 0;
    }
    if (!child.restartable || child.state.restarts >= MAX_RESTARTS) {
      child.gaveUp = `${name} exited (${how})${child.restartable ? ` after ${MAX_RESTARTS} restarts` : ''}; see ${path.join(this.t.logDir, `${name}.log`)}`;
      this.note(child.gaveUp);
      this.state.failed = this.state.failed ?? name;
      this.state.error = this.state.error ?? child.gaveUp;
      this.save();
      return;
    }
    child.state.restarts++;
    const delay = FIRST_RESTART_DELAY_MS * 2 ** (child.state.restarts - 1);
    this.note(
      `${name} exited (${how}): restart ${child.state.restarts}/${MAX_RESTARTS} in ${delay} ms`,
    );
    await sleep(delay);
    if (this.stopping) {
      return;
    }
    this.launch(child);
    // After a restart the process is healthy again only once its probe says so.
    void this.rewatch(child);
  }

  /** Mark a restarted child healthy once its probe passes again. */
  private async rewatch(child: Child): Promise<void> {
    const { kind, port } = child.state;
    const probe =
      kind === 'redis'
        ? () => redisPing(port)
        : kind === 'nginx'
          ? () => httpOk(`http://127.0.0.1:${port}/nginx/health`)
          : () => httpOk(`http://127.0.0.1:${port}/health/ready`);
    if (
      await until(probe, 60_000, {
        intervalMs: 250,
        abort: () => (this.stopping ? 'stopping' : undefined),
      }).catch(() => false)
    ) {
      child.state.healthy = true;
      this.save();
      this.note(`${child.state.name} healthy again`);
    }
  }

  private async waitFor(
    name: string,
    probe: () => Promise<boolean>,
    timeoutMs: number,
    options: { what?: string } = {},
  ): Promise<void> {
    const child = this.children.find((c) => c.state.name === name);
    const t0 = Date.now();
    const ok = await until(probe, timeoutMs, {
      abort: () => {
        if (this.stopping) {
          return 'stopping';
        }
        if (!child) {
          return undefined;
        }
        if (child.gaveUp) {
          return child.gaveUp;
        }
        return undefined;
      },
    }).catch((error: unknown) => {
      throw new StackStartError(name, error instanceof Error ? error.message : String(error));
    });
    if (!ok) {
      throw new StackStartError(
        name,
        `${name} was not ${options.what ?? 'healthy'} within ${seconds(timeoutMs)} (see ${path.join(this.t.logDir, `${name}.log`)})`,
      );
    }
    if (child) {
      child.state.healthy = true;
      this.save();
    }
    this.note(`${name} ${options.what ?? 'healthy'} (${seconds(Date.now() - t0)})`);
  }

  /** Stop a child with its clean-stop signal (or `signal`, sent to its whole process group). */
  private async kill(child: Child, signal?: NodeJS.Signals): Promise<void> {
    const proc = child.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) {
      return;
    }
    const pid = proc.pid;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (signal) {
      // A hung (SIGSTOPped) postmaster and its backends: SIGKILL reaches stopped processes too.
      signalProcessTree(pid, signal);
    } else {
      proc.kill(child.stopSignal);
    }
    const timer = setTimeout(() => {
      this.note(`${child.state.name} did not stop in ${seconds(STOP_GRACE_MS)}: SIGKILL`);
      // The whole tree: a postmaster's backends (each in its own session) must not outlive it.
      signalProcessTree(pid, 'SIGKILL');
    }, STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
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
    const childOf = (node: PostgresNode): Child => {
      const child = this.children.find((c) => c.state.name === node.name);
      if (!child) {
        throw new Error(`${node.name} was not started by this supervisor`);
      }
      return child;
    };
    return {
      topology: this.t,
      superuser: this.pg.id.superuser,
      fence: async (node, how) => {
        const child = childOf(node);
        child.fenced = true;
        const running = child.proc?.exitCode === null && child.proc.signalCode === null;
        if (!running) {
          return 'was down';
        }
        await this.kill(child, how === 'kill' ? 'SIGKILL' : undefined);
        return how === 'kill' ? 'killed' : 'stopped';
      },
      rebuild: async (node, primary) => {
        const child = childOf(node);
        child.fenced = true;
        await this.kill(child);
        node.role = 'replica';
        node.primaryPort = primary.port;
        await initReplica(node, this.pg.id, this.pg.bin);
        child.fenced = false;
        child.gaveUp = undefined;
        child.state.role = 'replica';
        child.state.restarts = 0;
        if (this.state.failed === node.name) {
          this.state.failed = undefined;
          this.state.error = undefined;
        }
        writeNodeSettings(this.t, node, this.pg.id);
        removeStalePidFile(node, this.pg.id, this.pg.bin);
        this.launch(child);
        await this.waitFor(node.name, () => pgReady(node.port, this.pg.id.superuser), 30_000);
        await this.waitFor(
          node.name,
          () => pgStreamingFrom(node.port, this.pg.id.superuser, primary.port),
          30_000,
          { what: `streaming from ${primary.name}` },
        );
      },
      setPrimary: (cluster, primary) => {
        assignPrimary(this.t, cluster, primary.name);
        for (const n of this.t.postgres.filter((p) => p.cluster === cluster)) {
          const child = this.children.find((c) => c.state.name === n.name);
          if (child) {
            child.state.role = n.role;
          }
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
    const order = [...this.t.postgres, ...this.t.redis, ...this.t.services, this.t.nginx].map(
      (c) => c.name,
    );
    this.state.components = this.children
      .map((c) => ({ ...c.state }))
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

/** Who NGINX workers run as when the master is root: `nobody` and its primary group. */
function unprivilegedUser(): { uid: number; gid: number; directive: string } {
  const id = (flag: string): string =>
    spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim();
  const uid = Number(id('-u'));
  const gid = Number(id('-g'));
  const group = id('-gn');
  if (!Number.isInteger(uid) || !group) {
    throw new StackStartError(
      'nginx',
      'running as root, but there is no `nobody` user for NGINX workers',
    );
  }
  return { uid, gid, directive: `nobody ${group}` };
}

export function findNginx(): string {
  for (const candidate of [
    process.env.NGINX_BIN,
    '/usr/sbin/nginx',
    '/usr/local/sbin/nginx',
    '/usr/local/nginx/sbin/nginx',
  ]) {
    if (candidate && existsSync(candidate)) {
      return candidate;
    }
  }
  const which = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) {
    return which.stdout.trim();
  }
  throw new StackStartError(
    'nginx',
    'nginx not found: install it (Debian/Ubuntu: apt-get install nginx; `npm start` does this when run as root) or set NGINX_BIN',
  );
}

/**
 * Pattern switches and limits set in the environment of `npm start` / `stack:up` reach every
 * service process (e.g. `CACHE_L1_ENABLED=false npm run stack:up` for a pattern-off benchmark run).
 * Only these prefixes pass: the rest of the caller's environment does not leak into the services.
 */
export function patternSwitches(env: NodeJS.ProcessEnv): Record<string, string> {
  const pass =
    /^(RATE_LIMIT|CACHE_|READ_REPLICAS_|TRACING_|FANOUT_|FANIN_|QUEUE_|WRITE_BEHIND_|LEADERBOARD_TOP_CACHE_|SHED_|OTEL_TRACES_SAMPLER_ARG$|REQUEST_DEADLINE_MS$|REDIS_COMMAND_TIMEOUT_MS$|POST_GRPC_TIMEOUT_MS$)/;
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
