import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHART, helmNotes, helmRenderer, helmTemplate, type RenderOptions } from './helm-render';
import {
  REPO_ROOT,
  KUBECTL_MISSING,
  kustomizeBuild,
  schemaErrors,
  unknownFieldErrors,
  type K8sObject,
} from './manifests';
import { describeWithTool } from './with-tool.spec-helper';
import {
  availabilityViolations,
  imageTagViolations,
  ingressAllowed,
  podTemplate,
  probeViolations,
  redisMemoryViolations,
  resourceViolations,
  securityViolations,
  serviceSelectorViolations,
  workloads,
} from './policies';

/**
 * The chart rendered, not just read: helm-render (Go's text/template + sprig + Helm's template
 * functions, built from Debian's Go packages; there is no helm binary here) renders
 * deploy/helm/murmur with several sets of values, and every rendered object goes through the same
 * checks as the kustomize output (kubernetes.spec.ts): Kubernetes schemas, unknown fields and
 * the policies. The chart must also produce the same objects as deploy/k8s.
 */

const renderer = helmRenderer();
const bin = renderer.bin ?? '';

const render = (options: RenderOptions = {}): K8sObject[] =>
  helmTemplate(bin, options).map((r) => r.object);
const id = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;
const find = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) {
    throw new Error(`no ${kind}/${name} among ${objects.map(id).join(', ')}`);
  }
  return o;
};

interface Container {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  args?: string[];
  env?: { name: string; value?: string }[];
}
const containers = (o: K8sObject): Container[] => podTemplate(o).spec.containers;
const envOf = (o: K8sObject): Record<string, string | undefined> =>
  Object.fromEntries((containers(o)[0].env ?? []).map((e) => [e.name, e.value]));
const dataOf = (o: K8sObject): Record<string, string> => (o.data ?? {}) as Record<string, string>;
const annotationsOf = (o: K8sObject): Record<string, string> =>
  (podTemplate(o).metadata as { annotations?: Record<string, string> }).annotations ?? {};

/** What deploy/kind/up.sh sets with `helm upgrade --install` (LOADTEST=1 adds loadtest.enabled). */
const KIND = ['gateway.service.type=NodePort', 'gateway.service.nodePort=30080'];
/** A values file that turns most knobs. */
const SCALED = {
  image: { tag: '1.2.3', pullPolicy: 'Always' },
  config: { logLevel: 'debug', cookieSecure: true, extraEnv: { RATE_LIMIT_WRITE_PER_MIN: '120' } },
  services: { user: { replicas: 4, hpa: { minReplicas: 4, maxReplicas: 30, cpuUtilization: 60 } } },
  workers: { feed: { replicas: 3, hpa: { minReplicas: 3, maxReplicas: 12, cpuUtilization: 80 } } },
  gateway: { replicas: 3, hpa: { minReplicas: 3, maxReplicas: 9, cpuUtilization: 50 } },
  postgres: { storageClassName: 'fast', main: { replicas: 0 }, shards: { count: 4, replicas: 1 } },
  redis: { storageClassName: 'fast' },
  networkPolicies: { enabled: true },
  loadtest: { enabled: true, profile: 'smoke', scenario: 'feed.js' },
  rebuild: {
    activeDeadlineSeconds: 7200,
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '2', memory: '1Gi' } },
  },
};

const VARIANTS: [string, RenderOptions][] = [
  ['default values', {}],
  ['kind', { set: KIND }],
  ['kind with the load test', { set: [...KIND, 'loadtest.enabled=true'] }],
  // deploy/k8s/base's twin: NetworkPolicies are a component there (the chart has them by default)
  ['no Jaeger', { set: ['jaeger.enabled=false', 'networkPolicies.enabled=false'] }],
  ['scaled out', { values: SCALED }],
  [
    'edge switches on (TLS + HTTP/2, edge cache, hash_user)',
    {
      set: [
        'gateway.tls.enabled=true',
        'gateway.edgeCache.enabled=true',
        'gateway.loadBalancing=hash_user',
        'gateway.trustedProxies={10.244.0.0/16}',
      ],
    },
  ],
  [
    'CloudNativePG',
    {
      values: {
        postgres: { cloudnativePg: { enabled: true }, shards: { count: 2, replicas: 1 } },
        networkPolicies: { enabled: true },
      },
    },
  ],
];

/** Each variant with deploy/k8s target that should hold the same objects. */
const KUSTOMIZE_TWINS: [string, string][] = [
  ['no Jaeger', 'deploy/k8s/base'],
  ['kind', 'deploy/k8s/overlays/kind'],
  ['kind with the load test', 'deploy/k8s/overlays/kind-loadtest'],
];

const describeRendered = describeWithTool(renderer.skip);

describeRendered('deploy/helm/murmur rendered (helm-render)', () => {
  const rendered = new Map<string, K8sObject[]>();
  beforeAll(() => {
    for (const [name, options] of VARIANTS) {
      rendered.set(name, render(options));
    }
  });
  const objectsOf = (variant: string): K8sObject[] => rendered.get(variant) ?? [];

  describe.each(VARIANTS.map(([name]) => name))('%s', (variant) => {
    it('renders objects with apiVersion, kind and a unique name, leaving the namespace to Helm', () => {
      const objects = objectsOf(variant);
      expect(objects.length).toBeGreaterThan(40);
      const malformed = objects.filter(
        (o) => !o.apiVersion || !o.kind || !o.metadata?.name || o.metadata.namespace !== undefined,
      );
      expect(malformed).toEqual([]);
      const ids = objects.map(id);
      expect(ids.filter((x, i) => ids.indexOf(x) !== i)).toEqual([]);
    });

    it('validates against the Kubernetes schemas', () => {
      expect(schemaErrors(objectsOf(variant))).toEqual([]);
    });

    it('passes the workload policies', () => {
      const objects = objectsOf(variant);
      expect({
        probes: probeViolations(objects),
        resources: resourceViolations(objects),
        redisMemory: redisMemoryViolations(objects),
        security: securityViolations(objects),
        imageTags: imageTagViolations(objects),
        availability: availabilityViolations(objects),
        serviceSelectors: serviceSelectorViolations(objects),
      }).toEqual({
        probes: [],
        resources: [],
        redisMemory: [],
        security: [],
        imageTags: [],
        availability: [],
        serviceSelectors: [],
      });
    });
  });

  it('has no unknown fields in any variant', () => {
    // One TypeScript program for all variants (each distinct object once): it is the slow check.
    const seen = new Set<string>();
    const distinct = [...rendered.values()].flat().filter((o) => {
      const key = JSON.stringify(o);
      return seen.has(key) ? false : (seen.add(key), true);
    });
    expect(unknownFieldErrors(distinct)).toEqual([]);
  });

  it('adds Jaeger and the OTLP endpoint only when jaeger.enabled', () => {
    const jaegerObjects = (v: string): string[] =>
      objectsOf(v)
        .filter((o) => o.metadata.name.startsWith('jaeger'))
        .map(id);
    const otlp = (v: string): string | undefined =>
      dataOf(find(objectsOf(v), 'ConfigMap', 'murmur-env')).OTEL_EXPORTER_OTLP_ENDPOINT;
    expect(jaegerObjects('default values').sort()).toEqual([
      'Deployment/jaeger',
      'NetworkPolicy/jaeger-from-murmur',
      'Service/jaeger',
    ]);
    expect(otlp('default values')).toBe('http://jaeger:4318');
    expect(jaegerObjects('kind')).toContain('NetworkPolicy/jaeger-from-murmur');
    expect(jaegerObjects('no Jaeger')).toEqual([]);
    expect(otlp('no Jaeger')).toBeUndefined();
  });

  it('leaves Postgres to CloudNativePG: its -rw and -ro Services, one owner secret, no StatefulSets', () => {
    const objects = objectsOf('CloudNativePG');
    expect(
      objects.filter((o) => o.kind === 'StatefulSet' && o.metadata.name.startsWith('pg-')),
    ).toEqual([]);
    const env = envOf(find(objects, 'Deployment', 'user'));
    const url = (host: string, db: string): string =>
      `postgres://murmur_user:$(POSTGRES_PASSWORD)@${host}:5432/${db}`;
    expect(env.DATABASE_URL).toBe(url('pg-main-rw', 'murmur'));
    expect(env.DATABASE_REPLICA_URLS).toBe(url('pg-main-ro', 'murmur'));
    expect(JSON.parse(env.SHARDS ?? '')).toEqual(
      [0, 1].map((i) => ({
        primary: url(`pg-shard-${i}-rw`, 'murmur_posts'),
        replicas: [url(`pg-shard-${i}-ro`, 'murmur_posts')],
      })),
    );
    const owner = find(objects, 'Secret', 'murmur-postgres-owner');
    expect((owner as { type?: string }).type).toBe('kubernetes.io/basic-auth');
    expect(dataOf(owner).password).toBe(
      dataOf(find(objects, 'Secret', 'murmur-postgres')).password,
    );
    expect(find(objects, 'NetworkPolicy', 'cloudnative-pg-instances')).toBeDefined();
    const elsewhere = render({
      values: { postgres: { cloudnativePg: { enabled: true, namespace: 'db' } } },
    });
    expect(envOf(find(elsewhere, 'Deployment', 'user')).DATABASE_URL).toBe(
      url('pg-main-rw.db', 'murmur'),
    );
  });

  it('follows replica, shard, HPA, storage, image and env values', () => {
    const objects = objectsOf('scaled out');
    const replicas = (kind: string, name: string): unknown =>
      (find(objects, kind, name).spec as { replicas?: number }).replicas;
    // postgres: main without replicas, four shard clusters of a primary and one replica each
    expect(replicas('StatefulSet', 'pg-main')).toBe(1);
    expect(
      objects
        .filter((o) => o.kind === 'StatefulSet' && o.metadata.name.startsWith('pg-shard-'))
        .map((o) => [o.metadata.name, (o.spec as { replicas: number }).replicas]),
    ).toEqual([0, 1, 2, 3].map((i) => [`pg-shard-${i}`, 2]));
    const user = find(objects, 'Deployment', 'user');
    const env = envOf(user);
    expect(env.DATABASE_REPLICA_URLS).toBe('');
    const shards = JSON.parse(env.SHARDS ?? '') as { primary: string; replicas: string[] }[];
    expect(shards.map((s) => [s.primary, s.replicas])).toEqual(
      [0, 1, 2, 3].map((i) => [
        `postgres://murmur_user:$(POSTGRES_PASSWORD)@pg-shard-${i}-0.pg-shard-${i}:5432/murmur_posts`,
        [
          `postgres://murmur_user:$(POSTGRES_PASSWORD)@pg-shard-${i}-1.pg-shard-${i}:5432/murmur_posts`,
        ],
      ]),
    );
    // scaling
    const hpa = (name: string): unknown => {
      const spec = find(objects, 'HorizontalPodAutoscaler', name).spec as {
        minReplicas: number;
        maxReplicas: number;
        metrics: { resource: { target: { averageUtilization: number } } }[];
      };
      return [
        spec.minReplicas,
        spec.maxReplicas,
        spec.metrics[0].resource.target.averageUtilization,
      ];
    };
    expect([replicas('Deployment', 'user'), hpa('user')]).toEqual([4, [4, 30, 60]]);
    expect([replicas('Deployment', 'feed-worker'), hpa('feed-worker')]).toEqual([3, [3, 12, 80]]);
    expect([replicas('Deployment', 'gateway'), hpa('gateway')]).toEqual([3, [3, 9, 50]]);
    expect(hpa('post')).toEqual([2, 10, 70]);
    // storage class on every claim template
    const classes = objects
      .filter((o) => o.kind === 'StatefulSet')
      .flatMap(
        (o) =>
          (o.spec as { volumeClaimTemplates: { spec: { storageClassName?: string } }[] })
            .volumeClaimTemplates,
      )
      .map((t) => t.spec.storageClassName);
    expect(new Set(classes)).toEqual(new Set(['fast']));
    // the Murmur image and config
    expect(containers(user)[0]).toMatchObject({ image: 'murmur:1.2.3', imagePullPolicy: 'Always' });
    expect(dataOf(find(objects, 'ConfigMap', 'murmur-env'))).toMatchObject({
      LOG_LEVEL: 'debug',
      COOKIE_SECURE: 'true',
      RATE_LIMIT_WRITE_PER_MIN: '120',
    });
    const k6 = containers(find(objects, 'Job', 'k6-1'))[0];
    expect(k6.args).toEqual(expect.arrayContaining(['PROFILE=smoke', 'feed.js']));
    // the rebuild CronJob: its deadline, resources, and the env of the feed workers (their role)
    const rebuild = find(objects, 'CronJob', 'rebuild');
    const job = (rebuild.spec as { jobTemplate: { spec: { activeDeadlineSeconds: number } } })
      .jobTemplate.spec;
    expect(job.activeDeadlineSeconds).toBe(7200);
    expect(containers(rebuild)[0]).toMatchObject({
      image: 'murmur:1.2.3',
      args: ['dist/tools/seed/rebuild.js'],
      resources: SCALED.rebuild.resources,
    });
    const feedWorker = envOf(find(objects, 'Deployment', 'feed-worker'));
    for (const key of ['DATABASE_URL', 'SHARDS', 'REDIS_URL']) {
      expect([key, envOf(rebuild)[key]]).toEqual([key, feedWorker[key]]);
    }
  });

  it('keeps the rebuild CronJob suspended, and leaves it out when rebuild.enabled is false', () => {
    const rebuild = find(objectsOf('default values'), 'CronJob', 'rebuild');
    expect(rebuild.spec).toMatchObject({ suspend: true, concurrencyPolicy: 'Forbid' });
    expect(podTemplate(rebuild).spec).toMatchObject({ restartPolicy: 'OnFailure' });
    const off = render({ set: ['rebuild.enabled=false'] });
    expect(off.filter((o) => o.kind === 'CronJob')).toEqual([]);
  });

  it('exposes the gateway, and not Jaeger, on the NodePort the kind config maps to the host', () => {
    const kindConfig = readFileSync(path.join(REPO_ROOT, 'deploy/kind/kind-config.yaml'), 'utf8');
    const nodePorts = (v: string): number[] =>
      objectsOf(v)
        .filter((o) => o.kind === 'Service')
        .flatMap((o) => (o.spec as { ports: { nodePort?: number }[] }).ports.map((p) => p.nodePort))
        .filter((p): p is number => p !== undefined)
        .sort();
    expect(nodePorts('default values')).toEqual([]);
    expect(nodePorts('kind')).toEqual([30080]);
    expect(kindConfig).not.toContain('30686');
    for (const port of nodePorts('kind')) {
      expect(kindConfig).toContain(`containerPort: ${port}`);
    }
  });

  it("points NGINX at the release namespace's headless Services under gateway.clusterDomain", () => {
    const objects = render({ namespace: 'staging', set: ['gateway.clusterDomain=corp.internal'] });
    const conf = dataOf(find(objects, 'ConfigMap', 'gateway-nginx'))['nginx.conf'];
    for (const svc of ['user', 'post', 'feed', 'leaderboard']) {
      expect(conf).toContain(`server ${svc}-headless.staging.svc.corp.internal:3000 resolve`);
    }
    expect(conf).toContain('resolver kube-dns.kube-system.svc.corp.internal');
    expect(conf).not.toContain('cluster.local');
  });

  it("sets every pool's algorithm from gateway.loadBalancing, the edge cache switch from gateway.edgeCache and the trusted proxies from gateway.trustedProxies", () => {
    const confOf = (set: string[]): string =>
      dataOf(find(render({ set }), 'ConfigMap', 'gateway-nginx'))['nginx.conf'];
    const pools = (conf: string): string[] => conf.split('upstream ').slice(1);
    const byDefault = confOf([]);
    expect(pools(byDefault).every((p) => p.includes('    least_conn;\n'))).toBe(true);
    expect(byDefault).toContain('include /etc/nginx/murmur/conf.d/edge-cache-off.conf;');
    const hashed = confOf(['gateway.loadBalancing=hash_user', 'gateway.edgeCache.enabled=true']);
    expect(
      pools(hashed).map((p) => p.match(/^\s*(least_conn|ip_hash|hash .*);$/m)?.[0].trim()),
    ).toEqual([
      'hash $murmur_user consistent;',
      'hash $murmur_user consistent;',
      'hash $murmur_user consistent;',
      'hash $murmur_user consistent;',
    ]);
    expect(hashed).toContain('include /etc/nginx/murmur/conf.d/edge-cache-on.conf;');
    expect(
      pools(confOf(['gateway.loadBalancing=round_robin'])).some((p) =>
        /least_conn|ip_hash|hash /.test(p),
      ),
    ).toBe(false);
    expect(
      pools(confOf(['gateway.loadBalancing=ip_hash'])).every((p) => p.includes('    ip_hash;\n')),
    ).toBe(true);
    // the proxies in front: none by default, one set_real_ip_from per gateway.trustedProxies entry
    expect(byDefault).not.toContain('set_real_ip_from');
    expect(confOf(['gateway.trustedProxies={10.244.0.0/16,192.0.2.1}'])).toContain(
      '  set_real_ip_from 10.244.0.0/16;\n  set_real_ip_from 192.0.2.1;\n  include ',
    );
    // the shared switch files ship in the chart's conf.d ConfigMap
    const confD = dataOf(find(render({}), 'ConfigMap', 'gateway-conf-d'));
    expect(Object.keys(confD)).toEqual(
      expect.arrayContaining(['edge-cache-on.conf', 'edge-cache-off.conf']),
    );
  });

  it('adds the HTTPS + HTTP/2 listener, its port and the certificate Secret only with gateway.tls.enabled', () => {
    const off = render({});
    expect(dataOf(find(off, 'ConfigMap', 'gateway-nginx'))['nginx.conf']).not.toContain('ssl');
    expect(JSON.stringify(find(off, 'Service', 'gateway'))).not.toContain('443');
    const on = render({ set: ['gateway.tls.enabled=true', 'gateway.tls.secretName=edge-cert'] });
    const conf = dataOf(find(on, 'ConfigMap', 'gateway-nginx'))['nginx.conf'];
    expect(conf).toContain('    listen 8443 ssl reuseport;\n    http2 on;\n');
    expect(conf).toContain('ssl_certificate /etc/nginx/tls/tls.crt;');
    expect(conf).not.toContain('{{');
    const pod = JSON.stringify(find(on, 'Deployment', 'gateway'));
    expect(pod).toContain('"secretName":"edge-cert"');
    expect(pod).toContain('"mountPath":"/etc/nginx/tls"');
    expect(pod).toContain('"containerPort":8443');
    expect(JSON.stringify(find(on, 'Service', 'gateway'))).toContain('"port":443');
  });

  it('rolls the pods when their rendered config changes', () => {
    const gateway = (set: string[]): Record<string, string> =>
      annotationsOf(find(render({ set }), 'Deployment', 'gateway'));
    const base = gateway([]);
    expect(gateway(['gateway.rateLimit.perIp.rate=500'])['checksum/nginx']).not.toBe(
      base['checksum/nginx'],
    );
    expect(gateway(['gateway.clusterDomain=corp.internal'])['checksum/nginx']).not.toBe(
      base['checksum/nginx'],
    );
    expect(gateway(['image.tag=0.2.0'])).toEqual(base);
    const user = (values: unknown): string =>
      annotationsOf(find(render({ values }), 'Deployment', 'user'))['checksum/env'];
    expect(user({ config: { logLevel: 'debug' } })).not.toBe(user({}));
    expect(user({ config: { extraEnv: { A: 'b' } } })).not.toBe(user({}));
  });

  it('lets every service, worker, the migration and the rebuild, and only them, reach Postgres and Redis', () => {
    const objects = objectsOf('kind with the load test');
    const component = (o: K8sObject): string =>
      o.metadata.labels?.['app.kubernetes.io/component'] ?? '';
    const data = workloads(objects).filter((o) => ['database', 'cache'].includes(component(o)));
    expect(data.map((d) => d.metadata.name).sort()).toEqual(
      ['pg-main', 'pg-shard-0', 'pg-shard-1', 'redis', 'redis-cache'].sort(),
    );
    const murmur = workloads(objects).filter((o) =>
      ['api', 'worker', 'migration', 'maintenance'].includes(component(o)),
    );
    expect(murmur).toHaveLength(9);
    expect(murmur.map((o) => o.metadata.name)).toEqual(
      expect.arrayContaining(['migrate-1', 'rebuild']),
    );
    const blocked = murmur.flatMap((from) =>
      data
        .filter((to) => !ingressAllowed(objects, from, to))
        .map((to) => `${from.metadata.name} → ${to.metadata.name}`),
    );
    expect(blocked).toEqual([]);
    const gateway = find(objects, 'Deployment', 'gateway');
    const k6 = find(objects, 'Job', 'k6-1');
    const jaeger = find(objects, 'Deployment', 'jaeger');
    expect(data.filter((to) => ingressAllowed(objects, gateway, to))).toEqual([]);
    expect(data.filter((to) => ingressAllowed(objects, k6, to))).toEqual([]);
    expect(ingressAllowed(objects, k6, gateway)).toBe(true);
    expect(murmur.every((from) => ingressAllowed(objects, from, jaeger))).toBe(true);
    expect(
      murmur
        .filter((to) => component(to) === 'api')
        .every((to) => ingressAllowed(objects, gateway, to)),
    ).toBe(true);
  });

  it('generates the Postgres and Redis passwords once and keeps the Secrets on uninstall', () => {
    const keys: Record<string, string[]> = {
      'murmur-postgres': [
        'feed-password',
        'leaderboard-password',
        'password',
        'post-password',
        'replication-password',
        'user-password',
      ],
      'murmur-redis': ['feed', 'leaderboard', 'post', 'probe', 'user'],
    };
    for (const [name, expected] of Object.entries(keys)) {
      const secret = find(objectsOf('default values'), 'Secret', name);
      expect(secret.metadata).toMatchObject({
        annotations: { 'helm.sh/resource-policy': 'keep' },
      });
      const data = dataOf(secret);
      expect(Object.keys(data).sort()).toEqual(expected);
      for (const value of Object.values(data)) {
        // lower-case alphanumerics: safe inside the postgres:// and redis:// URLs
        expect(Buffer.from(value, 'base64').toString()).toMatch(/^[a-z0-9]{32}$/);
      }
      expect(new Set(Object.values(data)).size).toBe(expected.length);
    }
  });

  it('renders NOTES.txt for the values given', () => {
    const notes = helmNotes(bin, { set: [...KIND, 'loadtest.enabled=true'] });
    expect(notes).toContain('job/migrate-1');
    expect(notes).toContain('NodePort 30080');
    expect(notes).toContain('port-forward svc/jaeger 16686:16686');
    expect(notes).toContain('logs -f job/k6-1');
    expect(notes).toContain('kubectl -n murmur create job "$job" --from=cronjob/rebuild');
    const plain = helmNotes(bin, { set: ['jaeger.enabled=false', 'rebuild.enabled=false'] });
    expect(plain).toContain('port-forward svc/gateway 8080:8080');
    expect(plain).not.toContain('Jaeger');
    expect(plain).not.toContain('cronjob/rebuild');
  });

  const describeKubectl = describeWithTool(KUBECTL_MISSING);
  describeKubectl('against deploy/k8s (kubectl kustomize)', () => {
    const twins = new Map<string, K8sObject[]>();
    beforeAll(() => {
      for (const [, target] of KUSTOMIZE_TWINS) {
        twins.set(target, kustomizeBuild(target));
      }
    });

    /** kustomize appends a content hash to generated ConfigMaps' names; Jobs differ in name by design. */
    const keyed = (objects: K8sObject[], hashed: Map<string, string>): Map<string, K8sObject> =>
      new Map(
        objects.map((o) => [
          o.kind === 'Job'
            ? `Job/${o.metadata.labels?.['app.kubernetes.io/name']}`
            : `${o.kind}/${hashed.get(o.metadata.name) ?? o.metadata.name}`,
          o,
        ]),
      );
    const hashedNames = (objects: K8sObject[]): Map<string, string> =>
      new Map(
        objects
          .filter((o) => o.kind === 'ConfigMap' && /-[a-z0-9]{10}$/.test(o.metadata.name))
          .map((o) => [o.metadata.name, o.metadata.name.replace(/-[a-z0-9]{10}$/, '')]),
      );

    /**
     * What must match: every object's spec (or data), after the differences that mean the same
     * to Kubernetes: hashed ConfigMap names, env order, a block scalar's final newline, an unset
     * imagePullPolicy (IfNotPresent for a pinned tag) and an empty `from` in a NetworkPolicy rule
     * (all sources either way). Labels and annotations of pod and claim templates are not
     * compared (the chart adds Helm's labels and checksums; selectors are compared). One
     * difference is by design: the chart's migrate Job has a new name per revision and a TTL,
     * so old ones go.
     */
    const normalize = (value: unknown, hashed: Map<string, string>, key = ''): unknown => {
      if (typeof value === 'string') {
        return hashed.get(value) ?? value.replace(/\n+$/, '');
      }
      if (Array.isArray(value)) {
        const items = value.map((v) => normalize(v, hashed));
        return key === 'env'
          ? [...(items as { name: string }[])].sort((a, b) => a.name.localeCompare(b.name))
          : items;
      }
      if (value !== null && typeof value === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) {
          if (
            (k === 'from' && Array.isArray(v) && v.length === 0) ||
            k === 'ttlSecondsAfterFinished'
          ) {
            continue;
          }
          out[k] = normalize(v, hashed, k);
        }
        if (typeof out.image === 'string' && out.imagePullPolicy === undefined) {
          out.imagePullPolicy = 'IfNotPresent';
        }
        if (key === 'metadata') {
          delete out.labels;
          delete out.annotations;
        }
        return out;
      }
      return value;
    };
    const contentOf = (o: K8sObject, hashed: Map<string, string>): unknown =>
      normalize(o.kind === 'ConfigMap' || o.kind === 'Secret' ? o.data : o.spec, hashed);

    it.each(KUSTOMIZE_TWINS)('%s has the objects of %s', (variant, target) => {
      const helm = keyed(objectsOf(variant), new Map());
      const kustomize = keyed(twins.get(target) ?? [], hashedNames(twins.get(target) ?? []));
      // The chart generates the Postgres and Redis Secrets (deploy/kind/up.sh creates them for kustomize) and
      // installs into `--namespace` (kustomize creates the Namespace).
      expect([...helm.keys()].filter((k) => !kustomize.has(k))).toEqual([
        'Secret/murmur-postgres',
        'Secret/murmur-redis',
      ]);
      expect([...kustomize.keys()].filter((k) => !helm.has(k))).toEqual(['Namespace/murmur']);
    });

    it.each(KUSTOMIZE_TWINS)('%s has the specs and data of %s', (variant, target) => {
      const built = twins.get(target) ?? [];
      const hashed = hashedNames(built);
      const kustomize = keyed(built, hashed);
      const helm = keyed(objectsOf(variant), new Map());
      const mine: Record<string, unknown> = {};
      const theirs: Record<string, unknown> = {};
      for (const [key, o] of helm) {
        const twin = kustomize.get(key);
        if (twin) {
          mine[key] = contentOf(o, new Map());
          theirs[key] = contentOf(twin, hashed);
        }
      }
      expect(Object.keys(mine).length).toBeGreaterThan(40);
      expect(mine).toEqual(theirs);
    });
  });

  describe('catches', () => {
    const copies: string[] = [];
    afterAll(() => {
      for (const dir of copies) {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    /** A copy of the chart with `from` replaced by `to` in one file. */
    const brokenChart = (file: string, from: string, to: string): string => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'murmur-chart-'));
      copies.push(dir);
      cpSync(CHART, dir, { recursive: true });
      const target = path.join(dir, file);
      const text = readFileSync(target, 'utf8');
      if (!text.includes(from)) {
        throw new Error(`${file} does not contain ${from}`);
      }
      writeFileSync(target, text.split(from).join(to));
      return dir;
    };

    it('values the schema rejects (Helm validates values.schema.json before rendering)', () => {
      expect(() => render({ set: ['image.tag=latest'] })).toThrow(/image\.tag: Must not validate/);
      expect(() => render({ set: ['gateway.replica=3'] })).toThrow(
        /gateway: Additional property replica is not allowed/,
      );
      expect(() => render({ set: ['gateway.loadBalancing=random'] })).toThrow(
        /gateway\.loadBalancing: gateway\.loadBalancing must be one of/,
      );
      expect(() => render({ values: { services: { user: { hpa: { minReplicas: 1 } } } } })).toThrow(
        /minReplicas: Must be greater than or equal to 2/,
      );
    });

    it('HPA bounds the schema cannot compare (minReplicas above maxReplicas)', () => {
      expect(() =>
        render({ set: ['workers.post.hpa.minReplicas=8,workers.post.hpa.maxReplicas=4'] }),
      ).toThrow(/post-worker: hpa\.minReplicas \(8\) is above hpa\.maxReplicas \(4\)/);
    });

    it('a template that does not parse', () => {
      const chart = brokenChart(
        'templates/config.yaml',
        '  {{- end }}\n',
        '  {{- end }}\n{{ end }}\n',
      );
      expect(() => render({ chart })).toThrow(
        /parse error at \(murmur\/templates\/config\.yaml:\d+\)/,
      );
    });

    it('a value the templates read but values.yaml does not have (strict, as helm lint --strict)', () => {
      const chart = brokenChart(
        'templates/gateway.yaml',
        'replicas: {{ .Values.gateway.replicas }}',
        'replicas: {{ .Values.gateway.replicaCount }}',
      );
      expect(() => render({ chart })).toThrow(/map has no entry for key "replicaCount"/);
      // Without --strict Helm renders the missing value as nothing: `replicas:` (null).
      const lenient = render({ chart, strict: false });
      expect(
        (find(lenient, 'Deployment', 'gateway').spec as { replicas: unknown }).replicas,
      ).toBeNull();
    });

    it('a rendered document that is not YAML', () => {
      const chart = brokenChart('templates/config.yaml', '| nindent 4 }}', '| indent 4 }}');
      expect(() => render({ chart })).toThrow(
        /YAML parse error on murmur\/templates\/config\.yaml/,
      );
    });

    it('rendered objects that break the schemas, have unknown fields or break the policies', () => {
      const badPort = render({
        chart: brokenChart('templates/gateway.yaml', 'containerPort: 8080', 'containerPort: http'),
      });
      expect(schemaErrors(badPort).join('\n')).toMatch(/Deployment\/gateway: .*containerPort/);

      const typo = render({
        chart: brokenChart('templates/services.yaml', 'readinessProbe:', 'readinesProbe:'),
      });
      const apis = ['user', 'post', 'feed', 'leaderboard'];
      const workers = ['post-worker', 'feed-worker', 'leaderboard-worker'];
      expect(unknownFieldErrors(typo).join('\n')).toMatch(/readinesProbe.*does not exist/);
      expect(probeViolations(typo).sort()).toEqual(
        [...apis, ...workers]
          .map((n) => `Deployment/${n} container ${n}: no readinessProbe`)
          .sort(),
      );

      const writable = render({
        chart: brokenChart(
          'templates/_helpers.tpl',
          'readOnlyRootFilesystem: true',
          'readOnlyRootFilesystem: false',
        ),
      });
      const all = workloads(writable).flatMap((w) => {
        const spec = podTemplate(w).spec;
        return [...(spec.initContainers ?? []), ...spec.containers];
      });
      expect(securityViolations(writable)).toHaveLength(all.length);
      expect(securityViolations(writable)).toContain(
        'Deployment/user container wait-for-migrations: root filesystem is not read-only',
      );
    });
  });
});
