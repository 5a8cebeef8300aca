import type { K8sObject } from './manifests';
import { podTemplate, workloads } from './policies';

/**
 * Insecure deploy defaults (OWASP API8), judged on what every process of a deploy target is
 * started with: the session cookie over plain HTTP in production, a Redis without
 * authentication (a client URL without credentials, a server without an ACL file or a
 * password), and a Murmur process connecting to Postgres as a superuser or as the schema owner
 * (only the migration may). Docker Compose and Kubernetes objects (rendered Helm or kustomize
 * output) are first read into the same list of processes, so one function judges every target,
 * and a spec can show both that the real targets pass and that an insecure copy is caught.
 */

/** One container as started: its image, its command line and its environment. */
export interface DeployProcess {
  /** `Deployment/user container user`, `compose service user` */
  id: string;
  image: string;
  /** entrypoint/command and args, in order */
  args: string[];
  /** values as written; a value from a Secret reads `<secret name/key>` */
  env: Record<string, string>;
  /** the schema migration, which runs as the owner of the schema */
  migration: boolean;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}
interface K8sContainer {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
}

/** Every container of every workload, init containers included, with its env resolved. */
export function k8sProcesses(objects: K8sObject[]): DeployProcess[] {
  const configMaps = new Map(
    objects
      .filter((o) => o.kind === 'ConfigMap')
      .map((o) => [o.metadata.name, (o.data ?? {}) as Record<string, string>]),
  );
  const out: DeployProcess[] = [];
  for (const w of workloads(objects)) {
    const template = podTemplate(w);
    const migration = template.metadata?.labels?.['app.kubernetes.io/component'] === 'migration';
    const spec = template.spec as unknown as {
      initContainers?: K8sContainer[];
      containers: K8sContainer[];
    };
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      const env: Record<string, string> = {};
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef) {
          Object.assign(env, configMaps.get(from.configMapRef.name) ?? {});
        }
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom;
        env[e.name] =
          e.value ??
          (ref?.secretKeyRef
            ? `<secret ${ref.secretKeyRef.name}/${ref.secretKeyRef.key}>`
            : ref?.configMapKeyRef
              ? (configMaps.get(ref.configMapKeyRef.name)?.[ref.configMapKeyRef.key] ?? '')
              : `<field ${ref?.fieldRef?.fieldPath ?? '?'}>`);
      }
      out.push({
        id: `${w.kind}/${w.metadata.name} container ${c.name}`,
        image: c.image ?? '',
        args: [...(c.command ?? []), ...(c.args ?? [])],
        env,
        migration,
      });
    }
  }
  return out;
}

export interface ComposeServiceSpec {
  image?: string;
  entrypoint?: string[] | string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
}

const words = (v: string[] | string | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : v.split(/\s+/).filter(Boolean);

/** Every service of a compose file (YAML merge keys resolved). */
export function composeProcesses(
  services: Record<string, ComposeServiceSpec>,
  migrations: readonly string[] = ['migrate'],
): DeployProcess[] {
  return Object.entries(services).map(([name, s]) => ({
    id: `compose service ${name}`,
    image: s.image ?? '',
    args: [...words(s.entrypoint), ...words(s.command)],
    // `$$` is compose's escape for a literal `$` (the `$(VAR)` references of its URLs)
    env: Object.fromEntries(
      Object.entries(s.environment ?? {}).map(([k, v]) => [
        k,
        v === null ? '' : String(v).replaceAll('$$', '$'),
      ]),
    ),
    migration: migrations.includes(name),
  }));
}

/** A password that is not written in the file: a Kubernetes `$(VAR)` reference to a Secret. */
const REFERENCE = /^\$\([A-Z_][A-Z0-9_]*\)$/;

interface UrlCredentials {
  url: string;
  user: string;
  password: string | undefined;
}

/** The credentials of every `scheme://` URL in a value (SHARDS is JSON holding several). */
function credentialsIn(value: string, schemes: string): UrlCredentials[] {
  const re = new RegExp(`(?:${schemes})://(?:([^:@/"\\s]*)(?::([^@/"\\s]*))?@)?[^\\s",]+`, 'g');
  return [...value.matchAll(re)].map((m) => ({
    url: m[0],
    user: decodeURIComponent(m[1] ?? ''),
    password: m[2] === undefined ? undefined : m[2],
  }));
}

const isImage = (image: string, name: string): boolean =>
  new RegExp(`(^|/)${name}(:|@|$)`).test(image);

/** A container running redis-server (not redis-cli, not a shell script on the redis image). */
const isRedisServer = (p: DeployProcess): boolean =>
  isImage(p.image, 'redis') &&
  (p.args.length === 0 || p.args[0] === 'redis-server' || p.args[0].startsWith('--'));

const isPostgresServer = (p: DeployProcess): boolean =>
  isImage(p.image, 'postgres') && 'POSTGRES_USER' in p.env;

const POSTGRES_URL_VARS = ['DATABASE_URL', 'DATABASE_REPLICA_URLS', 'SHARDS'];
const REDIS_URL_VARS = ['REDIS_URL', 'CACHE_REDIS_URL'];

export function cookieViolations(processes: DeployProcess[]): string[] {
  return processes
    .filter((p) => p.env.NODE_ENV === 'production' && 'COOKIE_SECURE' in p.env)
    .filter((p) => p.env.COOKIE_SECURE !== 'true')
    .map(
      (p) =>
        `${p.id}: COOKIE_SECURE=${p.env.COOKIE_SECURE} with NODE_ENV=production (the session cookie would travel over plain HTTP)`,
    );
}

export function redisAuthViolations(processes: DeployProcess[]): string[] {
  const out: string[] = [];
  for (const p of processes) {
    for (const name of REDIS_URL_VARS.filter((v) => v in p.env)) {
      for (const c of credentialsIn(p.env[name], 'rediss?')) {
        if (c.password === undefined || c.password === '') {
          out.push(`${p.id}: ${name} has no credentials (${c.url})`);
        } else if (c.user === '' || c.user === 'default') {
          out.push(`${p.id}: ${name} connects as Redis's default user`);
        } else if (!REFERENCE.test(c.password)) {
          out.push(`${p.id}: ${name} has a password written in the file, not taken from a Secret`);
        }
      }
    }
    if (isRedisServer(p) && !p.args.some((a) => a === '--aclfile' || a === '--requirepass')) {
      out.push(
        `${p.id}: redis-server without --aclfile or --requirepass (anyone who reaches it may FLUSHALL)`,
      );
    }
  }
  return out;
}

export function postgresRoleViolations(processes: DeployProcess[]): string[] {
  const superusers = new Set([
    'postgres',
    ...processes.filter(isPostgresServer).map((p) => p.env.POSTGRES_USER),
  ]);
  const owners = new Set(
    processes
      .filter((p) => p.migration && 'DATABASE_URL' in p.env)
      .flatMap((p) => credentialsIn(p.env.DATABASE_URL, 'postgres(?:ql)?').map((c) => c.user)),
  );
  const out: string[] = [];
  for (const p of processes.filter((x) => !x.migration)) {
    for (const name of POSTGRES_URL_VARS.filter((v) => v in p.env)) {
      const users = new Set<string>();
      for (const c of credentialsIn(p.env[name], 'postgres(?:ql)?')) {
        if (superusers.has(c.user)) {
          users.add(`as the superuser ${c.user}`);
        } else if (owners.has(c.user)) {
          users.add(`as the schema owner ${c.user} (the migration's role)`);
        } else if (c.user === '') {
          users.add('without a user');
        }
        if (c.password !== undefined && c.password !== '' && !REFERENCE.test(c.password)) {
          users.add('with a password written in the file, not taken from a Secret');
        }
      }
      for (const u of users) {
        out.push(`${p.id}: ${name} connects to Postgres ${u}`);
      }
    }
  }
  return out;
}

/** All of the above: empty when the target's defaults are safe for production. */
export function insecureDefaultViolations(processes: DeployProcess[]): string[] {
  return [
    ...cookieViolations(processes),
    ...redisAuthViolations(processes),
    ...postgresRoleViolations(processes),
  ];
}
