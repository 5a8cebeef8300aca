/**
 * The local stack's command line (run by scripts/bootstrap.mjs on Node 24):
 *   start      foreground: start everything, prefix every process's output, Ctrl-C stops all
 *   up         background: return once every component is healthy
 *   status     table of components (--json: [{name, role, port, pid, healthy}])
 *   down       stop everything the stack started
 *   migrate    run migrations against the running stack
 * Options: --profile dev|test, --fresh, --port N (or MURMUR_PORT), --only infra, --otlp URL
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, UsageError } from './cli-args';
import { isRunning, migrateStack, stackStatus, startStack, stopStack } from './control';
import { Supervisor } from './supervisor';
import { buildTopology } from './topology';

const root = path.resolve(__dirname, '..', '..', '..', '..');

function table(
  rows: Array<{ name: string; role: string; port: number; pid: number | null; healthy: boolean }>,
): string {
  const head = ['component', 'role', 'port', 'pid', 'healthy'];
  const body = rows.map((r) => [
    r.name,
    r.role,
    String(r.port),
    String(r.pid ?? '-'),
    r.healthy ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function supervise(args: ReturnType<typeof parseArgs>, echo: boolean): Promise<void> {
  const t = buildTopology({ profile: args.profile, root, nginxPort: args.port });
  if (isRunning(t)) {
    throw new UsageError(`a ${t.profile} stack is already running (npm run stack:down first)`);
  }
  if (args.fresh) {
    rmSync(t.stateDir, { recursive: true, force: true });
  }
  const supervisor = new Supervisor(t, { only: args.only, otlpEndpoint: args.otlp, echo });
  let exiting = false;
  const shutdown = (code: number): void => {
    if (exiting) {
      return;
    }
    exiting = true;
    void supervisor.stop().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  try {
    await supervisor.start();
  } catch (error) {
    process.stdout.write(
      `stack | start failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    shutdown(1);
    return;
  }
  if (echo) {
    const rows = await stackStatus({ profile: args.profile, root, nginxPort: args.port });
    process.stdout.write(`\n${table(rows)}\n\n`);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), process.env);
  const options = {
    profile: args.profile,
    root,
    nginxPort: args.port,
    fresh: args.fresh,
    only: args.only,
    otlpEndpoint: args.otlp,
  };
  switch (args.command) {
    case 'start':
      return supervise(args, true);
    case 'supervise':
      return supervise(args, false);
    case 'up': {
      const t0 = Date.now();
      const { topology } = await startStack(options);
      const rows = await stackStatus(options);
      process.stdout.write(
        `\n${table(rows)}\n\nstack (${topology.profile}) up in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
      process.stdout.write(args.only ? '\n' : ` — http://127.0.0.1:${topology.nginx.port}/api\n`);
      return;
    }
    case 'status': {
      const rows = await stackStatus(options);
      if (args.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
      } else {
        process.stdout.write(
          rows.length === 0 ? `no ${args.profile} stack running\n` : `${table(rows)}\n`,
        );
      }
      if (rows.some((r) => !r.healthy)) {
        process.exitCode = 1;
      }
      return;
    }
    case 'down':
      await stopStack(options);
      return;
    case 'migrate':
      process.exitCode = await migrateStack(options);
      return;
    default:
      throw new UsageError(
        `unknown command ${args.command} (start | up | status | down | migrate)`,
      );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
