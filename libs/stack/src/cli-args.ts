import type { StackProfile } from './topology';

export const COMMANDS = [
  'start',
  'up',
  'down',
  'status',
  'migrate',
  'failover',
  'supervise',
  'help',
] as const;
export type Command = (typeof COMMANDS)[number];

export interface CliArgs {
  command: Command;
  profile: StackProfile;
  fresh: boolean;
  json: boolean;
  only?: 'infra';
  port?: number;
  otlp?: string;
  /** `migrate` only: arguments for the migrate command itself (e.g. --revert) */
  passthrough: string[];
  /** `failover` only: the Postgres cluster (main, shard-N) and optionally the standby to promote */
  cluster: string;
  to?: string;
}

export class UsageError extends Error {}

export const USAGE = `usage: stack <command> [options]

commands:
  start      start everything in the foreground; Ctrl-C stops it all
  up         start everything in the background; returns once all is healthy
  status     show every component (--json: [{name, role, port, pid, healthy}])
  down       stop everything the stack started
  migrate    run the migrations against the running stack (other options go to the migrate command)
  failover   promote a standby of a Postgres cluster of the running stack (--cluster, --to)

options:
  --profile dev|test   dev: .stack/ and :8080 (default); test: .stack-test/, every port +10000
                       (probe: .stack-probe/, +5000, for the supervisor's own tests)
  --fresh              wipe the profile's data first (start, up)
  --port N             NGINX port (or MURMUR_PORT)
  --only infra         Postgres, Redis and Memcached only: no migrations, services or NGINX
  --otlp URL           OTEL_EXPORTER_OTLP_ENDPOINT for the services
  --json               status as JSON
  --cluster NAME       failover: main (default), shard-0, shard-1
  --to NODE            failover: the standby to promote (default: the one with the most WAL)
`;

const isCommand = (c: string): c is Command => (COMMANDS as readonly string[]).includes(c);

function toPort(text: string, source: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new UsageError(`${source} must be a TCP port (1-65535), not "${text}"`);
  }
  return port;
}

/**
 * Parse `<command> [--profile dev|test] [--fresh] [--json] [--only infra] [--port N] [--otlp URL]`.
 * MURMUR_PORT sets the NGINX port unless --port is given.
 */
export function parseArgs(argv: string[], env: Record<string, string | undefined> = {}): CliArgs {
  const [first = 'start', ...rest] = argv;
  const command = first === '--help' || first === '-h' ? 'help' : first;
  if (!isCommand(command)) {
    throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
  const args: CliArgs = {
    command,
    profile: 'dev',
    fresh: false,
    json: false,
    passthrough: [],
    cluster: 'main',
  };
  if (env.MURMUR_PORT !== undefined && env.MURMUR_PORT !== '') {
    args.port = toPort(env.MURMUR_PORT, 'MURMUR_PORT');
  }
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) {
        throw new UsageError(`${flag} needs a value`);
      }
      return v;
    };
    switch (flag) {
      case '--profile': {
        const p = value();
        if (p !== 'dev' && p !== 'test' && p !== 'probe') {
          throw new UsageError(`--profile is dev, test or probe, not "${p}"`);
        }
        args.profile = p;
        break;
      }
      case '--fresh':
        args.fresh = true;
        break;
      case '--json':
        args.json = true;
        break;
      case '--only': {
        const only = value();
        if (only !== 'infra') {
          throw new UsageError(`--only takes: infra (not "${only}")`);
        }
        args.only = 'infra';
        break;
      }
      case '--port':
        args.port = toPort(value(), '--port');
        break;
      case '--otlp': {
        const url = value();
        if (!/^https?:\/\//.test(url)) {
          throw new UsageError(`--otlp must be an http(s) URL, not "${url}"`);
        }
        args.otlp = url;
        break;
      }
      case '--cluster':
      case '--to': {
        if (command !== 'failover') {
          throw new UsageError(`${flag} is an option of failover`);
        }
        const v = value();
        if (flag === '--cluster') {
          args.cluster = v;
        } else {
          args.to = v;
        }
        break;
      }
      case '--help':
      case '-h':
        args.command = 'help';
        break;
      default:
        if (command === 'migrate') {
          args.passthrough.push(flag);
          break;
        }
        throw new UsageError(`unknown option "${flag}"\n\n${USAGE}`);
    }
  }
  return args;
}
