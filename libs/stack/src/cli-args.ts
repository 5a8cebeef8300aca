import type { StackProfile } from './topology';

export interface CliArgs {
  command: string;
  profile: StackProfile;
  fresh: boolean;
  json: boolean;
  only?: 'infra';
  port?: number;
  otlp?: string;
}

export class UsageError extends Error {}

/** Parse `<command> [--profile dev|test] [--fresh] [--json] [--only infra] [--port N] [--otlp URL]`. */
export function parseArgs(argv: string[], env: Record<string, string | undefined> = {}): CliArgs {
  const [command = 'start', ...rest] = argv;
  const args: CliArgs = { command, profile: 'dev', fresh: false, json: false };
  const envPort = env.MURMUR_PORT;
  if (envPort !== undefined) {
    args.port = Number(envPort);
  }
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined) {
        throw new UsageError(`${flag} needs a value`);
      }
      return v;
    };
    switch (flag) {
      case '--profile': {
        const p = value();
        if (p !== 'dev' && p !== 'test') {
          throw new UsageError('--profile is dev or test');
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
      case '--only':
        if (value() !== 'infra') {
          throw new UsageError('--only takes: infra');
        }
        args.only = 'infra';
        break;
      case '--port':
        args.port = Number(value());
        break;
      case '--otlp':
        args.otlp = value();
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  if (
    args.port !== undefined &&
    (!Number.isInteger(args.port) || args.port < 1 || args.port > 65535)
  ) {
    throw new UsageError('--port must be a TCP port');
  }
  return args;
}
