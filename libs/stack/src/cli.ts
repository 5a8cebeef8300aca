/**
 * The local stack's command line, run on Node 24 by scripts/bootstrap.mjs (`npm start`,
 * `npm run stack:up|down|status|failover`, `npm run migrate`). See USAGE in cli-args.ts.
 * `supervise` is internal: the background supervisor that `up` starts.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, USAGE, type CliArgs, UsageError } from './cli-args';
import {
  failoverStack,
  migrateStack,
  runningStack,
  stackStatus,
  startStack,
  stopStack,
} from './control';
import { formatFailover, withCurrentRoles } from './failover';
import { formatTable, seconds } from './output';
import { ComponentError } from './process-group';
import { Supervisor } from './supervisor';
import { buildTopology, type Topology } from './topology';

/** The repository root: this file runs as dist/libs/stack/src/cli.js. */
const root = path.resolve(__dirname, '..', '..', '..', '..');

const print = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

async function printSummary(args: CliArgs, t: Topology, startedAt: number): Promise<void> {
  const status = await stackStatus({ profile: args.profile, root, nginxPort: t.nginx.port });
  print(`\n${formatTable(status.components)}\n`);
  const where = args.only === 'infra' ? '' : ` — http://127.0.0.1:${t.nginx.port}/api`;
  print(
    `stack (${t.profile}${args.only ? `, only ${args.only}` : ''}) up in ${seconds(Date.now() - startedAt)}${where}`,
  );
}

/** `start` (foreground, echo) and `supervise` (what `up` runs in the background). */
async function supervise(args: CliArgs, echo: boolean): Promise<void> {
  const startedAt = Date.now();
  const t = withCurrentRoles(buildTopology({ profile: args.profile, root, nginxPort: args.port }));
  if (runningStack(t)) {
    throw new UsageError(
      `a ${t.profile} stack is already running (stop it with: npm run stack:down${t.profile === 'dev' ? '' : ` -- --profile ${t.profile}`})`,
    );
  }
  if (args.fresh) {
    // Leftovers of a crashed run could still hold files open in there.
    await stopStack({ profile: args.profile, root, log: () => undefined });
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
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => shutdown(0));
  }
  try {
    await supervisor.start();
  } catch (error) {
    if (exiting) {
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    const component = error instanceof ComponentError ? error.component : undefined;
    print(`\n✖ start failed${component ? ` at ${component}` : ''}: ${message}`);
    shutdown(1);
    return;
  }
  if (echo) {
    await printSummary(args, t, startedAt);
    print('Ctrl-C stops everything.');
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
    case 'help':
      process.stdout.write(USAGE);
      return;
    case 'start':
      return supervise(args, true);
    case 'supervise':
      return supervise(args, false);
    case 'up': {
      const startedAt = Date.now();
      const { topology } = await startStack(options);
      await printSummary(args, topology, startedAt);
      return;
    }
    case 'status': {
      const status = await stackStatus(options);
      if (args.json) {
        print(JSON.stringify(status.components));
      } else if (status.components.length === 0) {
        print(`no ${args.profile} stack running`);
      } else {
        print(formatTable(status.components));
      }
      if (!status.running && status.orphans > 0) {
        process.stderr.write(
          `${status.orphans} processes of the ${args.profile} stack run without their supervisor: stop them with \`down\`\n`,
        );
      }
      // Scripts can poll `status` for health.
      process.exitCode = status.ready && status.components.every((c) => c.healthy) ? 0 : 1;
      return;
    }
    case 'down':
      await stopStack(options);
      return;
    case 'migrate':
      process.exitCode = await migrateStack({ ...options, args: args.passthrough });
      return;
    case 'failover': {
      const summary = await failoverStack({ ...options, cluster: args.cluster, to: args.to });
      print(`\n${formatFailover(summary)}`);
      return;
    }
  }
}

// A closed stdout or stderr must not end us before the stop is done: `npm start | tee start.log`
// and a Ctrl-C kill tee first, and the next line we print fails (EPIPE; EIO once a closed
// terminal hangs up). Without a handler that error ends the process, and every child it started
// runs on. What we print is also in .stack/logs/; losing the terminal copy is harmless.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', () => undefined);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
