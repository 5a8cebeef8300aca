import { spawnSync } from 'node:child_process';
import path from 'node:path';
import ts from 'typescript';
import YAML from 'yaml';

/**
 * What the deploy checks need to read and judge Kubernetes manifests offline: build a kustomize
 * directory with kubectl, validate objects against the Kubernetes schemas (kubernetes-models) and
 * for unknown fields (TypeScript's excess-property check against kubernetes-models' interfaces),
 * and the policy rules every workload must follow.
 */

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export function hasKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
}

export function kustomizeBuild(dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  }
  return parseYamlDocs(r.stdout);
}

export function parseYamlDocs(text: string): K8sObject[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** Schema errors (types, required fields, enums) of each object; empty when all are valid. */
export function schemaErrors(objects: K8sObject[]): string[] {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'validate-k8s.mjs')], {
    cwd: REPO_ROOT,
    input: JSON.stringify(objects),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`validate-k8s.mjs failed:\n${r.stderr}`);
  }
  return JSON.parse(r.stdout) as string[];
}

const modulePath = (apiVersion: string, kind: string): string => {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return group === ''
    ? `kubernetes-models/${version}/${kind}`
    : `kubernetes-models/${group}/${version}/${kind}`;
};

/**
 * Unknown fields (a typo like `readinesProbe` is silently dropped by the API server's lenient
 * decoding): every object becomes an object literal typed by its kubernetes-models interface, and
 * TypeScript's excess-property check names any field the schema does not have.
 */
export function unknownFieldErrors(objects: K8sObject[]): string[] {
  const file = path.join(REPO_ROOT, 'tools', 'deploy-checks', '__manifests__.ts');
  const lines = objects.map((o, i) => {
    const mod = modulePath(o.apiVersion, o.kind);
    return `import type { I${o.kind} as T${i} } from '${mod}';\nexport const o${i}: T${i} = ${JSON.stringify(o)};`;
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file?.fileName !== file || d.start === undefined) {
      return message;
    }
    const line = d.file.getLineAndCharacterOfPosition(d.start).line;
    const o = objects[Math.floor(line / 2)];
    return `${o.kind}/${o.metadata.name}: ${message}`;
  });
}

export const KUBECTL_MISSING = hasKubectl()
  ? undefined
  : 'kubectl is not installed (kubectl kustomize builds deploy/k8s; install kubectl 1.27 or newer, e.g. from https://kubernetes.io/docs/tasks/tools/; Debian 12 ships 1.20, too old for `labels` and `components`)';
