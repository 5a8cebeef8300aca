import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  rmSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import path from 'node:path';
import { renderNginxConfig } from './nginx-config';
import {
  ensureDatabase,
  initPrimary,
  initReplica,
  isInitialised,
  pgBinDir,
  pgIdentity,
  pgReady,
  type PgIdentity,
  postgresCommand,
} from './postgres';
import { httpOk, redisPing, sleep, until } from './probes';
import { type ComponentState, readState, type StackState, writeState } from './state';
import {
  type RedisNode,
  serviceEntry,
  serviceEnv,
  type ServiceProcess,
  type Topology,
} from './topology';

export interface SupervisorOptions {
  only?: 'infra';
  otlpEndpoint?: string;
  /** print children's output, prefixed, on our stdout (foreground `npm start`) */
  echo: boolean;
}

interface Child extends ComponentState {
  proc?: ChildProcess;
  log: WriteStream;
  restarts: number;
  spawnSpec: () => {
    cmd: string;
    args: string[];
    env?: NodeJS.ProcessEnv;
    uid?: number;
    gid?: number;
    cwd?: string;
  };
  restartable: boolean;
  stopSignal: NodeJS.Signals;
}

const COLOURS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

/** Starts the local stack in dependency order, supervises it and stops it in reverse order. */
export class Supervisor {
  private readonly children: Child[] = [];
  private stopping = false;
  private state: StackState;
  private readonly started = Date.now();
  private readonly width: number;

  constructor(
    private readonly t: Topology,
    private readonly options: SupervisorOptions,
  ) {
    this.state = {
      supervisorPid: process.pid,
      profile: t.profile,
      ready: false,
      components: [],
      startedAt: Date.now(),
    };
    this.width = Math.max(
      ...[...t.postgres, ...t.redis, ...t.services].map((c) => c.name.length),
      8,
    );
  }

  async start(): Promise<void> {
    mkdirSync(this.t.logDir, { recursive: true });
    this.save();
    const id = pgIdentity();
    const bin = pgBinDir();
    const ownedByPg = (dir: string): void => {
      mkdirSync(dir, { recursive: true });
      if (id.uid !== undefined && id.gid !== undefined) {
        chownSync(dir, id.uid, id.gid);
      }
    };
    ownedByPg(path.join(this.t.stateDir, 'pg'));

    await this.phase('postgres primaries', async () => {
      const primaries = this.t.postgres.filter((n) => n.role === 'primary');
      for (const node of primaries) {
        if (!isInitialised(node)) {
          this.note(`initdb ${node.name}`);
          initPrimary(this.t, node, id, bin);
        }
      }
      await Promise.all(
        primaries.map((node) =>
          this.startPostgres(node.name, node.role, node.port, node.dataDir, id, bin),
        ),
      );
      for (const node of primaries) {
        const db = node.cluster === 'main' ? this.t.database.name : this.t.database.shardDatabase;
        await ensureDatabase(node.port, id.superuser, this.t.database.user, db);
      }
    });

    await this.phase('postgres replicas', async () => {
      const replicas = this.t.postgres.filter((n) => n.role === 'replica');
      await Promise.all(
        replicas.map(async (node) => {
          if (!isInitialised(node)) {
            this.note(`pg_basebackup ${node.name} from :${node.primaryPort}`);
            initReplica(node, id, bin);
          }
          await this.startPostgres(node.name, node.role, node.port, node.dataDir, id, bin);
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

    this.state.ready = true;
    this.state.readyAt = Date.now();
    this.save();
    this.note(`ready in ${((Date.now() - this.started) / 1000).toFixed(1)} s`);
    if (this.options.only !== 'infra') {
      this.note(
        `Murmur is up: http://127.0.0.1:${this.t.nginx.port}/api  (Ctrl-C or \`npm run stack:down\` stops it)`,
      );
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) {
      return;
    }
    this.stopping = true;
    this.note('stopping');
    const order: Array<(c: Child) => boolean> = [
      (c) => c.kind === 'nginx',
      (c) => c.kind === 'service',
      (c) => c.kind === 'redis',
      (c) => c.kind === 'postgres' && c.role === 'replica',
      (c) => c.kind === 'postgres',
    ];
    for (const group of order) {
      await Promise.all(
        this.children
          .filter((c) => group(c) && c.proc && c.proc.exitCode === null)
          .map((c) => this.kill(c)),
      );
    }
    this.state.ready = false;
    this.state.components = [];
    this.save();
    this.note('stopped');
  }

  private async phase(name: string, fn: () => Promise<void>): Promise<void> {
    const t0 = Date.now();
    this.note(`▶ ${name}`);
    try {
      await fn();
    } catch (error) {
      this.state.failed = this.state.failed ?? name;
      this.state.error = error instanceof Error ? error.message : String(error);
      this.save();
      throw error;
    }
    this.note(`✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  private async startPostgres(
    name: string,
    role: string,
    port: number,
    dataDir: string,
    id: PgIdentity,
    bin: string,
  ): Promise<void> {
    // A stale pid file from a killed run would stop Postgres from starting.
    const pidFile = path.join(dataDir, 'postmaster.pid');
    if (existsSync(pidFile)) {
      const probe = spawnSync(path.join(bin, 'pg_ctl'), ['status', '-D', dataDir], {
        uid: id.uid,
        gid: id.gid,
      });
      if (probe.status !== 0) {
        rmSync(pidFile, { force: true });
      }
    }
    this.spawnChild({
      name,
      role,
      port,
      kind: 'postgres',
      restartable: false,
      stopSignal: 'SIGINT',
      spawnSpec: () => ({
        ...postgresCommand(dataDir, port, bin),
        uid: id.uid,
        gid: id.gid,
        cwd: '/',
      }),
    });
    await this.waitHealthy(name, () => pgReady(port, id.superuser), 30_000);
  }

  private async startRedis(r: RedisNode): Promise<void> {
    mkdirSync(r.dataDir, { recursive: true });
    const common = [
      '--port',
      String(r.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      r.dataDir,
      '--save',
      '',
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
      '--loglevel',
      'warning',
    ];
    const purpose =
      r.purpose === 'queue'
        ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction']
        : ['--appendonly', 'no', '--maxmemory', '256mb', '--maxmemory-policy', 'allkeys-lru'];
    this.spawnChild({
      name: r.name,
      role: r.purpose,
      port: r.port,
      kind: 'redis',
      restartable: true,
      stopSignal: 'SIGTERM',
      spawnSpec: () => ({ cmd: 'redis-server', args: [...common, ...purpose] }),
    });
    await this.waitHealthy(r.name, () => redisPing(r.port), 10_000);
  }

  private async migrate(): Promise<void> {
    const env = serviceEnv(this.t, this.t.services[0]);
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [path.join(this.t.root, 'dist', 'tools', 'migrate', 'main.js')],
        {
          cwd: this.t.root,
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const log = createWriteStream(path.join(this.t.logDir, 'migrate.log'), { flags: 'a' });
      const forward = (chunk: Buffer): void => {
        log.write(chunk);
        this.echo('migrate', chunk);
      };
      child.stdout.on('data', forward);
      child.stderr.on('data', forward);
      child.on('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
      throw new Error(`migrations failed (see ${path.join(this.t.logDir, 'migrate.log')})`);
    }
  }

  private async startService(s: ServiceProcess): Promise<void> {
    const entry = path.join(this.t.root, serviceEntry(s));
    if (!existsSync(entry)) {
      throw new Error(`${entry} is missing: build first (npm run build)`);
    }
    const env = serviceEnv(this.t, s, { otlpEndpoint: this.options.otlpEndpoint });
    this.spawnChild({
      name: s.name,
      role: s.entry === 'worker' ? `${s.service} worker` : `${s.service} service`,
      port: s.port,
      kind: 'service',
      restartable: true,
      stopSignal: 'SIGTERM',
      spawnSpec: () => ({
        cmd: process.execPath,
        args: [entry],
        env: { ...process.env, ...env },
        cwd: this.t.root,
      }),
    });
    await this.waitHealthy(s.name, () => httpOk(`http://127.0.0.1:${s.port}/health/ready`), 90_000);
  }

  private async startNginx(): Promise<void> {
    const dir = this.t.nginx.dir;
    for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      mkdirSync(path.join(dir, 'tmp', sub), { recursive: true });
    }
    const root = process.getuid?.() === 0;
    if (root) {
      // Workers drop to nobody; they need their temp directories.
      const nobody = spawnSync('id', ['-u', 'nobody']).stdout.toString().trim();
      for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
        chownSync(path.join(dir, 'tmp', sub), Number(nobody), -1);
      }
    }
    const conf = path.join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      renderNginxConfig(this.t, {
        sharedDir: path.join(this.t.root, 'infra', 'nginx', 'conf.d'),
        workerUser: root ? 'nobody nogroup' : undefined,
      }),
    );
    const nginx = findNginx();
    const check = spawnSync(nginx, ['-t', '-q', '-p', dir, '-c', conf, '-g', 'daemon off;'], {
      encoding: 'utf8',
    });
    if (check.status !== 0) {
      throw new Error(`nginx -t failed: ${check.stderr}`);
    }
    this.spawnChild({
      name: 'nginx',
      role: 'edge',
      port: this.t.nginx.port,
      kind: 'nginx',
      restartable: true,
      stopSignal: 'SIGQUIT',
      spawnSpec: () => ({ cmd: nginx, args: ['-p', dir, '-c', conf, '-g', 'daemon off;'] }),
    });
    await this.waitHealthy(
      'nginx',
      () => httpOk(`http://127.0.0.1:${this.t.nginx.port}/nginx/health`),
      10_000,
    );
  }

  private spawnChild(spec: Omit<Child, 'log' | 'restarts' | 'pid' | 'healthy'>): Child {
    const child: Child = {
      ...spec,
      pid: undefined,
      healthy: false,
      restarts: 0,
      log: createWriteStream(path.join(this.t.logDir, `${spec.name}.log`), { flags: 'a' }),
    };
    this.children.push(child);
    this.launch(child);
    return child;
  }

  private launch(child: Child): void {
    const s = child.spawnSpec();
    // Own process group: Ctrl-C reaches the supervisor only, which stops children in order.
    const proc = spawn(s.cmd, s.args, {
      env: s.env ?? process.env,
      uid: s.uid,
      gid: s.gid,
      cwd: s.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.proc = proc;
    child.pid = proc.pid;
    const forward = (chunk: Buffer): void => {
      child.log.write(chunk);
      this.echo(child.name, chunk);
    };
    proc.stdout?.on('data', forward);
    proc.stderr?.on('data', forward);
    proc.on('error', (error) => forward(Buffer.from(`spawn failed: ${error.message}\n`)));
    proc.on('exit', (code, signal) => void this.onExit(child, code, signal));
    this.save();
  }

  private async onExit(
    child: Child,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): Promise<void> {
    child.healthy = false;
    child.pid = undefined;
    this.save();
    if (this.stopping) {
      return;
    }
    this.note(`${child.name} exited (${signal ?? `code ${code}`})`);
    if (!child.restartable || child.restarts >= 5) {
      this.state.failed = this.state.failed ?? child.name;
      this.save();
      return;
    }
    child.restarts++;
    const delay = 500 * 2 ** (child.restarts - 1);
    this.note(`restarting ${child.name} in ${delay} ms (attempt ${child.restarts})`);
    await sleep(delay);
    if (!this.stopping) {
      this.launch(child);
    }
  }

  private async waitHealthy(
    name: string,
    probe: () => Promise<boolean>,
    timeoutMs: number,
  ): Promise<void> {
    const child = this.children.find((c) => c.name === name);
    const ok = await until(async () => {
      if (child?.proc && child.proc.exitCode !== null && !child.restartable) {
        throw new Error(
          `${name} exited with code ${child.proc.exitCode} (see ${path.join(this.t.logDir, `${name}.log`)})`,
        );
      }
      return probe();
    }, timeoutMs);
    if (!ok) {
      this.state.failed = name;
      this.save();
      throw new Error(
        `${name} did not become healthy within ${timeoutMs / 1000} s (see ${path.join(this.t.logDir, `${name}.log`)})`,
      );
    }
    if (child) {
      child.healthy = true;
      this.save();
    }
  }

  private async kill(child: Child): Promise<void> {
    const proc = child.proc;
    if (!proc || proc.exitCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(child.stopSignal);
    const timer = setTimeout(() => {
      if (proc.exitCode === null) {
        this.note(`${child.name} did not stop in time: SIGKILL`);
        try {
          process.kill(-(proc.pid as number), 'SIGKILL');
        } catch {
          proc.kill('SIGKILL');
        }
      }
    }, 15_000);
    await exited;
    clearTimeout(timer);
  }

  private echo(name: string, chunk: Buffer): void {
    if (!this.options.echo) {
      return;
    }
    const tty = process.stdout.isTTY;
    const colour = COLOURS[[...name].reduce((h, c) => h + c.charCodeAt(0), 0) % COLOURS.length];
    const label = name.padEnd(this.width);
    const prefix = tty ? `\x1b[${colour}m${label}\x1b[0m | ` : `${label} | `;
    const text = chunk.toString().replace(/\n$/, '');
    process.stdout.write(
      `${text
        .split('\n')
        .map((l) => prefix + l)
        .join('\n')}\n`,
    );
  }

  private note(message: string): void {
    const elapsed = `${((Date.now() - this.started) / 1000).toFixed(1)}s`.padStart(6);
    process.stdout.write(`${'stack'.padEnd(this.width)} | ${elapsed} ${message}\n`);
  }

  private save(): void {
    this.state.components = this.children.map(({ name, role, port, pid, kind, healthy }) => ({
      name,
      role,
      port,
      pid,
      kind,
      healthy,
    }));
    writeState(this.t, this.state);
  }

  static current(t: Topology): StackState | undefined {
    return readState(t);
  }
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
  throw new Error(
    'nginx not found: install Debian package nginx (npm start installs it when run as root)',
  );
}
