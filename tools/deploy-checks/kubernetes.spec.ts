import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  REPO_ROOT,
  KUBECTL_MISSING,
  kustomizeBuild,
  parseYamlDocs,
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
  scaledDeployments,
  securityViolations,
  serviceSelectorViolations,
  workloads,
} from './policies';

/** The parts of a Murmur container the worker checks read. */
interface MurmurContainer {
  args?: string[];
  env?: { name: string; value?: string }[];
  envFrom?: unknown[];
  ports?: { name?: string; containerPort: number }[];
}
/** The parts of a CronJob the rebuild check reads. */
interface CronJobSpec {
  suspend?: boolean;
  concurrencyPolicy?: string;
  jobTemplate: {
    spec: {
      backoffLimit?: number;
      activeDeadlineSeconds?: number;
      ttlSecondsAfterFinished?: number;
    };
  };
}
const component = (o: K8sObject): string =>
  o.metadata.labels?.['app.kubernetes.io/component'] ?? '';

const TARGETS = [
  'deploy/k8s/base',
  'deploy/k8s/overlays/kind',
  'deploy/k8s/overlays/kind-loadtest',
];
const describeWithKubectl = describeWithTool(KUBECTL_MISSING);

describeWithKubectl('deploy/k8s (kubectl kustomize)', () => {
  const built = new Map<string, K8sObject[]>();
  beforeAll(() => {
    for (const target of TARGETS) {
      built.set(target, kustomizeBuild(target));
    }
  });
  const objectsOf = (target: string): K8sObject[] => built.get(target) ?? [];

  describe.each(TARGETS)('%s', (target) => {
    it('builds', () => {
      expect(objectsOf(target).length).toBeGreaterThan(0);
    });

    it('validates against the Kubernetes schemas', () => {
      expect(schemaErrors(objectsOf(target))).toEqual([]);
    });

    it('has no unknown fields', () => {
      expect(unknownFieldErrors(objectsOf(target))).toEqual([]);
    });

    it('gives every long-running container liveness, readiness and startup probes', () => {
      expect(probeViolations(objectsOf(target))).toEqual([]);
    });

    it('gives every container CPU and memory requests and limits', () => {
      expect(resourceViolations(objectsOf(target))).toEqual([]);
    });

    it('bounds every Redis below its memory limit (refused writes or eviction, not an OOM kill)', () => {
      expect(redisMemoryViolations(objectsOf(target))).toEqual([]);
    });

    it('runs every container non-root, read-only, without privilege escalation or capabilities', () => {
      expect(securityViolations(objectsOf(target))).toEqual([]);
    });

    it('pins every image tag (no latest)', () => {
      expect(imageTagViolations(objectsOf(target))).toEqual([]);
    });

    it('gives every service, worker and the gateway an autoscaling/v2 CPU HPA (min 2) and a PDB', () => {
      expect(availabilityViolations(objectsOf(target))).toEqual([]);
    });

    it('points every Service selector at a pod template', () => {
      expect(serviceSelectorViolations(objectsOf(target))).toEqual([]);
    });

    it('puts everything in the murmur namespace', () => {
      const stray = objectsOf(target).filter(
        (o) => o.kind !== 'Namespace' && o.metadata.namespace !== 'murmur',
      );
      expect(stray.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    });
  });

  it('scales all four services, the three workers and the gateway', () => {
    const names = scaledDeployments(objectsOf('deploy/k8s/base')).map((d) => d.metadata.name);
    expect(names.sort()).toEqual(
      [
        'feed',
        'feed-worker',
        'gateway',
        'leaderboard',
        'leaderboard-worker',
        'post',
        'post-worker',
        'user',
      ].sort(),
    );
  });

  it("runs each worker from its service's worker.js, with that service's env and no gRPC server", () => {
    const workers = objectsOf('deploy/k8s/base').filter(
      (o) => o.kind === 'Deployment' && component(o) === 'worker',
    );
    expect(workers.map((w) => w.metadata.name).sort()).toEqual([
      'feed-worker',
      'leaderboard-worker',
      'post-worker',
    ]);
    for (const w of workers) {
      const service = w.metadata.name.replace(/-worker$/, '');
      const c = podTemplate(w).spec.containers[0] as MurmurContainer;
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
      expect({ name: w.metadata.name, args: c.args, service: env.SERVICE_NAME }).toEqual({
        name: w.metadata.name,
        args: [`dist/services/${service}/src/worker.js`],
        service,
      });
      expect('GRPC_PORT' in env).toBe(false);
      expect((c.ports ?? []).map((p) => p.name)).toEqual(['http']);
      // every worker reads Postgres; the feed worker also rebuilds the data Redis from it
      expect(Object.keys(env)).toEqual(
        expect.arrayContaining(['DATABASE_URL', 'DATABASE_REPLICA_URLS', 'SHARDS']),
      );
      expect(podTemplate(w).spec.initContainers?.map((i) => i.name)).toEqual([
        'wait-for-migrations',
      ]);
    }
  });

  it('keeps the rebuild CronJob a suspended template of one-shot Jobs, as the feed role, in the pod of migrate', () => {
    const objects = objectsOf('deploy/k8s/base');
    const rebuild = objects.find((o) => o.kind === 'CronJob' && o.metadata.name === 'rebuild');
    const migrate = objects.find((o) => o.kind === 'Job' && o.metadata.name === 'migrate');
    if (!rebuild || !migrate) {
      throw new Error('no CronJob/rebuild or Job/migrate in deploy/k8s/base');
    }
    const spec = rebuild.spec as unknown as CronJobSpec;
    expect(spec).toMatchObject({ suspend: true, concurrencyPolicy: 'Forbid' });
    const job = spec.jobTemplate.spec;
    expect([job.backoffLimit, job.activeDeadlineSeconds, job.ttlSecondsAfterFinished]).toEqual([
      expect.any(Number),
      expect.any(Number),
      expect.any(Number),
    ]);
    expect(podTemplate(rebuild).spec).toMatchObject({
      restartPolicy: 'OnFailure',
      automountServiceAccountToken: false,
      securityContext: podTemplate(migrate).spec.securityContext,
    });
    const c = podTemplate(rebuild).spec.containers[0] as MurmurContainer;
    const m = (podTemplate(migrate).spec.initContainers ?? [])[0] as MurmurContainer;
    expect(c.args).toEqual(['dist/tools/seed/rebuild.js']);
    expect(c.envFrom).toEqual(m.envFrom);
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    expect(env.DATABASE_URL).toMatch(/^postgres:\/\/murmur_feed:/);
    expect(env.REDIS_URL).toMatch(/^redis:\/\/feed:\$\(REDIS_PASSWORD\)@redis:6379$/);
  });

  it('lets every service, worker, migrate and rebuild, and only them, reach Postgres and Redis under the NetworkPolicies', () => {
    const objects = objectsOf('deploy/k8s/overlays/kind');
    expect(objects.some((o) => o.kind === 'NetworkPolicy')).toBe(true);
    const data = workloads(objects).filter((o) => ['database', 'cache'].includes(component(o)));
    expect(data.map((d) => d.metadata.name).sort()).toEqual(
      ['pg-main', 'pg-shard-0', 'pg-shard-1', 'redis', 'redis-cache'].sort(),
    );
    const murmur = workloads(objects).filter((o) =>
      ['api', 'worker', 'migration', 'maintenance'].includes(component(o)),
    );
    expect(murmur.map((d) => d.metadata.name)).toEqual(
      expect.arrayContaining(['post-worker', 'feed-worker', 'migrate', 'rebuild']),
    );
    const blocked = murmur.flatMap((from) =>
      data
        .filter((to) => !ingressAllowed(objects, from, to))
        .map((to) => `${from.metadata.name} → ${to.metadata.name}`),
    );
    expect(blocked).toEqual([]);
    const gateway = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'gateway');
    expect(data.filter((to) => gateway && ingressAllowed(objects, gateway, to))).toEqual([]);
  });

  it('lets NGINX and gRPC clients see pod IPs through headless Services', () => {
    const headless = objectsOf('deploy/k8s/base')
      .filter(
        (o) => o.kind === 'Service' && (o.spec as { clusterIP?: string }).clusterIP === 'None',
      )
      .map((o) => o.metadata.name);
    expect(headless).toEqual(
      expect.arrayContaining([
        'user-headless',
        'post-headless',
        'feed-headless',
        'leaderboard-headless',
        'post-grpc-headless',
      ]),
    );
    const gatewayConf = readFileSync(
      path.join(REPO_ROOT, 'deploy/k8s/base/gateway/nginx.conf'),
      'utf8',
    );
    expect(gatewayConf).toMatch(/server user-headless\.murmur\.svc\.cluster\.local:3000 resolve/);
  });

  it('exports traces to Jaeger in the kind overlay only', () => {
    const env = (target: string): Record<string, string> =>
      (objectsOf(target).find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('murmur-env'),
      )?.data ?? {}) as Record<string, string>;
    expect(env('deploy/k8s/base').OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(env('deploy/k8s/overlays/kind').OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
  });

  it('exposes the gateway, and not the Jaeger UI, on the NodePort the kind config maps to the host', () => {
    const kindConfig = readFileSync(path.join(REPO_ROOT, 'deploy/kind/kind-config.yaml'), 'utf8');
    const nodePorts = objectsOf('deploy/k8s/overlays/kind')
      .filter((o) => o.kind === 'Service' && (o.spec as { type?: string }).type === 'NodePort')
      .flatMap((o) => (o.spec as { ports: { nodePort?: number }[] }).ports.map((p) => p.nodePort))
      .filter((p): p is number => p !== undefined);
    expect(nodePorts.sort()).toEqual([30080]);
    for (const port of nodePorts) {
      expect(kindConfig).toContain(`containerPort: ${port}`);
    }
  });
});

describe('policy checks', () => {
  const broken = parseYamlDocs(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: user, labels: { app.kubernetes.io/component: api } }
spec:
  selector: { matchLabels: { app.kubernetes.io/name: user } }
  template:
    metadata: { labels: { app.kubernetes.io/name: user } }
    spec:
      containers:
        - name: user
          image: murmur:latest
          readinessProbe: { httpGet: { path: /health/ready, port: 3000 } }
---
apiVersion: v1
kind: Service
metadata: { name: usr }
spec: { selector: { app.kubernetes.io/name: usr }, ports: [{ port: 3000 }] }
`);

  it('catch a deployment without probes, resources, hardening, pinned image, HPA or PDB', () => {
    expect(probeViolations(broken)).toEqual([
      'Deployment/user container user: no livenessProbe',
      'Deployment/user container user: no startupProbe',
    ]);
    expect(resourceViolations(broken)).toHaveLength(2);
    expect(securityViolations(broken)).toHaveLength(4);
    expect(imageTagViolations(broken)).toEqual([
      'Deployment/user container user: image "murmur:latest" has no pinned tag',
    ]);
    expect(availabilityViolations(broken)).toEqual([
      'Deployment/user: no HorizontalPodAutoscaler',
      'Deployment/user: no PodDisruptionBudget selects its pods',
    ]);
    expect(podTemplate(broken[0]).spec.containers).toHaveLength(1);
    const redis = (args: string[], memory: string): K8sObject =>
      ({
        kind: 'StatefulSet',
        metadata: { name: 'redis' },
        spec: {
          template: {
            spec: {
              containers: [
                { name: 'redis', image: 'redis:8.2', args, resources: { limits: { memory } } },
              ],
            },
          },
        },
      }) as unknown as K8sObject;
    expect(redisMemoryViolations([redis(['--appendonly', 'yes'], '1Gi')])).toEqual([
      'StatefulSet/redis container redis: redis without --maxmemory',
    ]);
    expect(redisMemoryViolations([redis(['--maxmemory', '1gb'], '1Gi')])).toHaveLength(1);
    expect(redisMemoryViolations([redis(['--maxmemory', '640mb'], '1Gi')])).toEqual([]);
  });

  it("check a CronJob's pod template like any other, without asking a one-shot run for probes", () => {
    const [cron] = parseYamlDocs(`
apiVersion: batch/v1
kind: CronJob
metadata: { name: rebuild }
spec:
  schedule: 0 0 1 1 *
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{ name: rebuild, image: murmur }]
`);
    expect(workloads([cron])).toEqual([cron]);
    expect(probeViolations([cron])).toEqual([]);
    expect(resourceViolations([cron])).toHaveLength(2);
    expect(securityViolations([cron])).toHaveLength(4);
    expect(imageTagViolations([cron])).toEqual([
      'CronJob/rebuild container rebuild: image "murmur" has no pinned tag',
    ]);
  });

  it('catch a Service whose selector matches no pods', () => {
    expect(serviceSelectorViolations(broken)).toEqual([
      'Service/usr: its selector matches no pod template',
    ]);
  });

  it('catch unknown fields and schema errors', () => {
    const typo = parseYamlDocs(`
apiVersion: v1
kind: Service
metadata: { name: x }
spec: { selectr: { a: b }, ports: [{ port: 80 }] }
`);
    const wrongType = parseYamlDocs(`
apiVersion: v1
kind: Service
metadata: { name: y }
spec: { ports: [{ port: "http" }] }
`);
    expect(unknownFieldErrors(typo).join('\n')).toMatch(
      /selectr.*does not exist in type 'IServiceSpec'/,
    );
    expect(schemaErrors(wrongType).join('\n')).toMatch(/port/);
  });
});
