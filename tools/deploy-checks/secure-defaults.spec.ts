import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { helmRenderer, helmTemplate, type RenderOptions } from './helm-render';
import { KUBECTL_MISSING, REPO_ROOT, kustomizeBuild, type K8sObject } from './manifests';
import { podTemplate } from './policies';
import {
  composeProcesses,
  cookieViolations,
  insecureDefaultViolations,
  k8sProcesses,
  postgresRoleViolations,
  redisAuthViolations,
  type ComposeServiceSpec,
  type DeployProcess,
} from './secure-defaults';
import { describeWithTool } from './with-tool.spec-helper';

/**
 * The production defaults of every deploy target (OWASP API8): secure session cookies, Redis
 * with authentication, and no Murmur process on Postgres as the superuser or the schema owner.
 * Each target is judged as it ships (no violations) and as a deliberately insecure copy (each
 * hole named), so the checks cannot pass by finding nothing to check.
 */

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const composeFile = (): Record<string, ComposeServiceSpec> =>
  (
    YAML.parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), {
      merge: true,
    }) as { services: Record<string, ComposeServiceSpec> }
  ).services;

/** Murmur's own processes: what reads the URLs and the cookie setting. */
const murmur = (processes: DeployProcess[]): DeployProcess[] =>
  processes.filter((p) => 'REDIS_URL' in p.env || 'DATABASE_URL' in p.env);

describe('secure deploy defaults: docker-compose.yml', () => {
  const processes = composeProcesses(composeFile(), ['migrate', 'db-roles']);

  it('has Murmur processes, Redis servers and Postgres servers to judge', () => {
    expect(murmur(processes).length).toBeGreaterThanOrEqual(8);
    expect(processes.filter((p) => p.image.startsWith('redis:')).length).toBeGreaterThanOrEqual(2);
  });

  it('ships secure cookies, authenticated Redis and least-privilege Postgres roles', () => {
    expect(insecureDefaultViolations(processes)).toEqual([]);
  });

  it('catches an insecure copy: cookies over HTTP, Redis without auth, Postgres as the superuser', () => {
    const services = clone(composeFile());
    const user = services.user.environment ?? {};
    user.COOKIE_SECURE = 'false';
    user.REDIS_URL = 'redis://redis:6379';
    user.CACHE_REDIS_URL = 'redis://default:$$(REDIS_PASSWORD)@redis-cache:6379';
    user.DATABASE_URL = 'postgres://postgres:$$(POSTGRES_PASSWORD)@pg-main-0:5432/murmur';
    (services.post.environment ?? {}).SHARDS = JSON.stringify([
      { primary: 'postgres://murmur:murmur@pg-shard-0:5432/murmur_posts', replicas: [] },
    ]);
    services.redis.command = ['redis-server', '--appendonly', 'yes'];
    const broken = composeProcesses(services, ['migrate', 'db-roles']);
    expect(cookieViolations(broken)).toEqual([
      'compose service user: COOKIE_SECURE=false with NODE_ENV=production (the session cookie would travel over plain HTTP)',
    ]);
    expect(redisAuthViolations(broken).sort()).toEqual(
      [
        'compose service user: REDIS_URL has no credentials (redis://redis:6379)',
        "compose service user: CACHE_REDIS_URL connects as Redis's default user",
        'compose service redis: redis-server without --aclfile or --requirepass (anyone who reaches it may FLUSHALL)',
      ].sort(),
    );
    expect(postgresRoleViolations(broken)).toEqual([
      'compose service user: DATABASE_URL connects to Postgres as the superuser postgres',
      'compose service post: SHARDS connects to Postgres as the superuser murmur',
      'compose service post: SHARDS connects to Postgres with a password written in the file, not taken from a Secret',
    ]);
  });
});

const renderer = helmRenderer();
const render = (options: RenderOptions = {}): K8sObject[] =>
  helmTemplate(renderer.bin ?? '', options).map((r) => r.object);

describeWithTool(renderer.skip)('secure deploy defaults: deploy/helm/murmur', () => {
  it.each<[string, RenderOptions]>([
    ['default values', {}],
    [
      'kind (deploy/kind/up.sh)',
      { set: ['gateway.service.type=NodePort', 'gateway.service.nodePort=30080'] },
    ],
    ['CloudNativePG', { values: { postgres: { cloudnativePg: { enabled: true } } } }],
  ])(
    '%s: secure cookies, authenticated Redis, least-privilege Postgres roles',
    (_name, options) => {
      const processes = k8sProcesses(render(options));
      expect(murmur(processes).length).toBeGreaterThanOrEqual(9);
      expect(insecureDefaultViolations(processes)).toEqual([]);
    },
  );

  it('catches insecure values: cookieSecure false, and an owner or superuser URL for a service', () => {
    const insecure = k8sProcesses(render({ set: ['config.cookieSecure=false'] }));
    expect(cookieViolations(insecure)).toContain(
      'Deployment/user container user: COOKIE_SECURE=false with NODE_ENV=production (the session cookie would travel over plain HTTP)',
    );
    // a service given the migration's URLs (the owner, the containers' superuser)
    const objects = render();
    const user = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'user');
    const migrate = objects.find((o) => o.kind === 'Job');
    if (!user || !migrate) {
      throw new Error('no Deployment/user or migrate Job');
    }
    type Env = { name: string; value?: string }[];
    const env = (o: K8sObject, init: boolean): Env => {
      const spec = podTemplate(o).spec;
      const first = ((init ? spec.initContainers : spec.containers) ?? [])[0] as { env?: Env };
      return first.env ?? [];
    };
    const owner = Object.fromEntries(env(migrate, true).map((e) => [e.name, e.value]));
    for (const e of env(user, false)) {
      if (e.name === 'DATABASE_URL') {
        e.value = owner.DATABASE_URL;
      }
      if (e.name === 'REDIS_URL') {
        e.value = 'redis://redis:6379';
      }
    }
    expect(insecureDefaultViolations(k8sProcesses(objects))).toEqual([
      'Deployment/user container user: REDIS_URL has no credentials (redis://redis:6379)',
      'Deployment/user container user: DATABASE_URL connects to Postgres as the superuser murmur',
    ]);
  });

  it('catches a Redis server started without its ACL file', () => {
    const objects = render();
    const redis = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'redis');
    if (!redis) {
      throw new Error('no StatefulSet/redis');
    }
    const c = podTemplate(redis).spec.containers[0];
    c.args = (c.args ?? []).filter((a) => a !== '--aclfile' && a !== '/acl/users.acl');
    expect(redisAuthViolations(k8sProcesses(objects))).toEqual([
      'StatefulSet/redis container redis: redis-server without --aclfile or --requirepass (anyone who reaches it may FLUSHALL)',
    ]);
  });
});

describeWithTool(KUBECTL_MISSING)('secure deploy defaults: deploy/k8s', () => {
  it.each(['deploy/k8s/base', 'deploy/k8s/overlays/kind', 'deploy/k8s/overlays/kind-loadtest'])(
    '%s: secure cookies, authenticated Redis, least-privilege Postgres roles',
    (target) => {
      const processes = k8sProcesses(kustomizeBuild(target));
      expect(murmur(processes).length).toBeGreaterThanOrEqual(9);
      expect(insecureDefaultViolations(processes)).toEqual([]);
    },
  );
});
