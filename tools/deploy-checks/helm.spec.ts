import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import { REPO_ROOT } from './manifests';

/**
 * The chart checked statically: values against the schema, and the templates for balanced blocks,
 * defined includes, values paths that exist and files that exist. helm-render.spec.ts renders it
 * (no helm binary runs here: helm-render/ is a stand-in built from Go, sprig and Helm's template
 * functions) and checks the objects; the real `helm lint` runs in deploy/kind/up.sh.
 */

const CHART = path.join(REPO_ROOT, 'deploy/helm/murmur');
const read = (file: string): string => readFileSync(path.join(CHART, file), 'utf8');
const values = YAML.parse(read('values.yaml')) as Record<string, unknown>;
const schema = JSON.parse(read('values.schema.json')) as Record<string, unknown>;
const templateFiles = readdirSync(path.join(CHART, 'templates')).filter((f) =>
  /\.(ya?ml|tpl|txt)$/.test(f),
);
const templates = templateFiles.map((f) => ({ file: f, text: read(`templates/${f}`) }));

/** The parts of values.yaml the negative schema cases change. */
interface ChartValues {
  image: { tag: string };
  services: Record<string, { hpa: { minReplicas: number } }>;
  workers: Record<string, { resources: { limits: { memory?: string } } }>;
  gateway: Record<string, unknown>;
}

const validator = () => new Ajv({ allErrors: true, strict: false }).compile(schema);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** The actions of a Go template, comments removed, trim markers stripped. */
const actions = (text: string): string[] =>
  [...text.matchAll(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g)]
    .map((m) => m[1].trim())
    .filter((a) => !a.startsWith('/*'));

describe('deploy/helm/murmur', () => {
  it('values.yaml validates against values.schema.json', () => {
    const validate = validator();
    expect(validate(values) ? [] : validate.errors).toEqual([]);
  });

  it.each([
    ['an HPA minimum below 2', (v: ChartValues) => (v.services.user.hpa.minReplicas = 1)],
    ['a latest image tag', (v: ChartValues) => (v.image.tag = 'latest')],
    ['an unknown value', (v: ChartValues) => (v.gateway.replica = 3)],
    ['a missing memory limit', (v: ChartValues) => delete v.workers.feed.resources.limits.memory],
  ])('the schema rejects %s', (_name, mutate) => {
    const broken = clone(values) as unknown as ChartValues;
    mutate(broken);
    expect(validator()(broken)).toBe(false);
  });

  it('Chart.yaml is a v2 application chart', () => {
    const chart = YAML.parse(read('Chart.yaml')) as Record<string, string>;
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'murmur', type: 'application' });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each(templates.map((t) => [t.file, t.text]))('%s has balanced template blocks', (_f, text) => {
    let depth = 0;
    for (const a of actions(text)) {
      if (/^(if|range|with|define|block)\b/.test(a)) {
        depth += 1;
      } else if (/^end\b/.test(a)) {
        depth -= 1;
        expect(depth).toBeGreaterThanOrEqual(0);
      }
    }
    expect(depth).toBe(0);
  });

  it('includes only templates the chart defines', () => {
    const all = templates.map((t) => t.text).join('\n');
    const defined = new Set([...all.matchAll(/define "([^"]+)"/g)].map((m) => m[1]));
    const used = [...all.matchAll(/(?:include|template) "([^"]+)"/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((u) => !defined.has(u))).toEqual([]);
  });

  it('reads only values that values.yaml defines', () => {
    const missing: string[] = [];
    for (const { file, text } of templates) {
      for (const m of text.matchAll(/\.Values((?:\.[A-Za-z][A-Za-z0-9]*)+)/g)) {
        const keys = m[1].slice(1).split('.');
        let node: unknown = values;
        for (const k of keys) {
          if (node === null || typeof node !== 'object' || !(k in node)) {
            missing.push(`${file}: .Values${m[1]}`);
            break;
          }
          node = (node as Record<string, unknown>)[k];
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('reads only chart files that exist', () => {
    const all = templates.map((t) => t.text).join('\n');
    for (const m of all.matchAll(/\.Files\.Get "([^"]+)"/g)) {
      expect([m[1], existsSync(path.join(CHART, m[1]))]).toEqual([m[1], true]);
    }
    for (const m of all.matchAll(/\.Files\.Glob "([^"*]+)\*([^"]*)"/g)) {
      const dir = path.join(CHART, path.dirname(`${m[1]}x`));
      expect(readdirSync(dir).filter((f) => f.endsWith(m[2])).length).toBeGreaterThan(0);
    }
  });

  it('creates the same workloads as deploy/k8s', () => {
    const all = templates.map((t) => t.text).join('\n');
    for (const name of [
      'gateway',
      'redis',
      'redis-cache',
      'jaeger',
      'murmur-postgres',
      'murmur-env',
      'rebuild',
    ]) {
      expect(all).toContain(`name: ${name}`);
    }
    // services and workers are generated from these lists, post gets the gRPC headless Service
    expect(all).toContain('list "user" "post" "feed" "leaderboard"');
    expect(all).toContain('list "post" "feed" "leaderboard"');
    expect(all).toContain('-grpc-headless');
    expect(all).toContain('kind: HorizontalPodAutoscaler');
    expect(all).toContain('kind: PodDisruptionBudget');
  });

  it('documents every top-level value in its README', () => {
    const readme = read('README.md');
    for (const key of Object.keys(values)) {
      expect([key, readme.includes(`\`${key}`)]).toEqual([key, true]);
    }
  });
});
