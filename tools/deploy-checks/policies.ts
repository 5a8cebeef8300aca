import type { K8sObject } from './manifests';

/**
 * The rules every Murmur workload follows in Kubernetes. Each returns the violations it finds
 * (empty: the manifests comply), so a spec can show both that the real manifests pass and that a
 * broken object is caught.
 */

interface Container {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
}

interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: PodSpec;
}

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'];
/** Workloads that run to completion: no probes expected. */
const RUN_TO_COMPLETION = ['Job', 'CronJob'];

const id = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;

export const workloads = (objects: K8sObject[]): K8sObject[] =>
  objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));

/** The pod template of a workload; a CronJob's is inside its Job template. */
export function podTemplate(o: K8sObject): PodTemplate {
  if (o.kind === 'CronJob') {
    return (o.spec as { jobTemplate: { spec: { template: PodTemplate } } }).jobTemplate.spec
      .template;
  }
  return (o.spec as { template: PodTemplate }).template;
}

const allContainers = (o: K8sObject): Container[] => {
  const spec = podTemplate(o).spec;
  return [...(spec.initContainers ?? []), ...spec.containers];
};

/** Murmur's own processes and the gateway: what must scale and stay available. */
export const scaledDeployments = (objects: K8sObject[]): K8sObject[] =>
  objects.filter(
    (o) =>
      o.kind === 'Deployment' &&
      ['api', 'worker', 'gateway'].includes(
        o.metadata.labels?.['app.kubernetes.io/component'] ?? '',
      ),
  );

export function probeViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of workloads(objects).filter((w) => !RUN_TO_COMPLETION.includes(w.kind))) {
    for (const c of podTemplate(o).spec.containers) {
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        if (!c[probe]) {
          out.push(`${id(o)} container ${c.name}: no ${probe}`);
        }
      }
    }
  }
  return out;
}

export function resourceViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of workloads(objects)) {
    for (const c of allContainers(o)) {
      for (const kind of ['requests', 'limits'] as const) {
        const r = c.resources?.[kind];
        if (!r?.cpu || !r.memory) {
          out.push(`${id(o)} container ${c.name}: resources.${kind} needs cpu and memory`);
        }
      }
    }
  }
  return out;
}

/** Bytes of a Kubernetes quantity (`1Gi`, `512Mi`) or a Redis size (`640mb`, `1gb`). */
export function bytesOf(size: string): number | undefined {
  const m = /^(\d+)(Ki|Mi|Gi|kb|mb|gb|k|m|g)?$/i.exec(size.trim());
  if (!m) {
    return undefined;
  }
  const unit = (m[2] ?? '').toLowerCase();
  const factor: Record<string, number> = {
    '': 1,
    ki: 1024,
    mi: 1024 ** 2,
    gi: 1024 ** 3,
    kb: 1024,
    mb: 1024 ** 2,
    gb: 1024 ** 3,
    k: 1000,
    m: 1000 ** 2,
    g: 1000 ** 3,
  };
  return Number(m[1]) * factor[unit];
}

/**
 * Every Redis container sets `--maxmemory` below its memory limit (at most 80%: an AOF rewrite
 * forks, and client buffers live outside maxmemory). Without it growth ends in an OOM-kill loop
 * instead of refused writes or evictions.
 */
export function redisMemoryViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of workloads(objects)) {
    for (const c of allContainers(o)) {
      // the redis image running something else (the ACL file's init container) is no server
      if (
        !(c.image ?? '').startsWith('redis:') ||
        (c.command ?? ['redis-server'])[0] !== 'redis-server'
      ) {
        continue;
      }
      const args = [...(c.command ?? []), ...(c.args ?? [])];
      const i = args.indexOf('--maxmemory');
      const max = i >= 0 ? bytesOf(args[i + 1] ?? '') : undefined;
      const memory = c.resources?.limits?.memory;
      const limit = typeof memory === 'string' ? bytesOf(memory) : undefined;
      if (max === undefined) {
        out.push(`${id(o)} container ${c.name}: redis without --maxmemory`);
      } else if (limit === undefined || max > limit * 0.8) {
        out.push(`${id(o)} container ${c.name}: --maxmemory not below 80% of its memory limit`);
      }
    }
  }
  return out;
}

export function securityViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of workloads(objects)) {
    const pod = podTemplate(o).spec.securityContext;
    for (const c of allContainers(o)) {
      const s = c.securityContext;
      const nonRoot = s?.runAsNonRoot ?? pod?.runAsNonRoot;
      if (nonRoot !== true) {
        out.push(`${id(o)} container ${c.name}: runAsNonRoot is not true`);
      }
      if (s?.readOnlyRootFilesystem !== true) {
        out.push(`${id(o)} container ${c.name}: root filesystem is not read-only`);
      }
      if (s?.allowPrivilegeEscalation !== false) {
        out.push(`${id(o)} container ${c.name}: allowPrivilegeEscalation is not false`);
      }
      if (!s?.capabilities?.drop?.includes('ALL')) {
        out.push(`${id(o)} container ${c.name}: capabilities are not dropped (drop: [ALL])`);
      }
    }
  }
  return out;
}

export function imageTagViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of workloads(objects)) {
    for (const c of allContainers(o)) {
      const image = c.image ?? '';
      const tag = image.includes('@') ? 'digest' : /:([^/:]+)$/.exec(image)?.[1];
      if (!tag || tag === 'latest') {
        out.push(`${id(o)} container ${c.name}: image "${image}" has no pinned tag`);
      }
    }
  }
  return out;
}

interface Hpa {
  spec: {
    scaleTargetRef: { kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics?: { type: string; resource?: { name: string } }[];
  };
}
interface Pdb {
  spec: { selector: { matchLabels?: Record<string, string> } };
}

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Every service, worker and the gateway: an autoscaling/v2 CPU HPA with min ≥ 2, and a PDB. */
export function availabilityViolations(objects: K8sObject[]): string[] {
  const out: string[] = [];
  const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
  for (const d of scaledDeployments(objects)) {
    const hpa = hpas.find((h) => {
      const ref = (h as unknown as Hpa).spec.scaleTargetRef;
      return ref.kind === 'Deployment' && ref.name === d.metadata.name;
    });
    if (!hpa) {
      out.push(`${id(d)}: no HorizontalPodAutoscaler`);
    } else {
      const spec = (hpa as unknown as Hpa).spec;
      if (hpa.apiVersion !== 'autoscaling/v2') {
        out.push(`${id(hpa)}: not autoscaling/v2`);
      }
      if ((spec.minReplicas ?? 1) < 2) {
        out.push(`${id(hpa)}: minReplicas below 2`);
      }
      if (!spec.metrics?.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')) {
        out.push(`${id(hpa)}: does not scale on CPU`);
      }
    }
    const labels = podTemplate(d).metadata?.labels;
    if (!pdbs.some((p) => matches((p as unknown as Pdb).spec.selector.matchLabels ?? {}, labels))) {
      out.push(`${id(d)}: no PodDisruptionBudget selects its pods`);
    }
  }
  return out;
}

/** A Service whose selector matches no pod template sends traffic nowhere. */
export function serviceSelectorViolations(objects: K8sObject[]): string[] {
  const templates = workloads(objects).map((w) => podTemplate(w).metadata?.labels ?? {});
  return objects
    .filter((o) => o.kind === 'Service')
    .filter((s) => {
      const selector = (s.spec as { selector?: Record<string, string> }).selector ?? {};
      return !templates.some((labels) => matches(selector, labels));
    })
    .map((s) => `${id(s)}: its selector matches no pod template`);
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  ingress?: { from?: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector }[] }[];
}

/** Kubernetes label selector semantics; an empty selector selects every pod. */
export function selects(selector: LabelSelector, labels: Record<string, string> = {}): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every((e) => {
    const has = e.key in labels;
    switch (e.operator) {
      case 'In':
        return has && (e.values ?? []).includes(labels[e.key]);
      case 'NotIn':
        return !has || !(e.values ?? []).includes(labels[e.key]);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return false;
    }
  });
  return byLabel && byExpression;
}

/**
 * Whether the NetworkPolicies let pods of workload `from` open connections to pods of workload
 * `to` in the same namespace: allowed when no policy isolates `to` for ingress, or when one that
 * does has a rule whose peers include `from` (no `from` at all means every peer).
 */
export function ingressAllowed(objects: K8sObject[], from: K8sObject, to: K8sObject): boolean {
  const source = podTemplate(from).metadata?.labels;
  const target = podTemplate(to).metadata?.labels;
  const isolating = objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .map((o) => o.spec as unknown as NetworkPolicySpec)
    .filter((p) => (p.policyTypes ?? ['Ingress']).includes('Ingress'))
    .filter((p) => selects(p.podSelector, target));
  return (
    isolating.length === 0 ||
    isolating.some((p) =>
      (p.ingress ?? []).some(
        (rule) =>
          rule.from === undefined ||
          rule.from.length === 0 ||
          rule.from.some(
            (peer) =>
              peer.namespaceSelector === undefined &&
              peer.podSelector !== undefined &&
              selects(peer.podSelector, source),
          ),
      ),
    )
  );
}
