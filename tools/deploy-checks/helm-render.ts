import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, type K8sObject } from './manifests';

/**
 * `helm template` for the deploy checks, without helm: helm-render/main.go renders the chart with
 * Go's text/template, sprig and Helm's own template functions (see the top of main.go for what
 * it does as Helm does and where it differs). helm-render/helm-template.mjs installs Go from
 * Debian's packages when missing and builds the renderer once per version of its source.
 */

export const CHART = path.join(REPO_ROOT, 'deploy/helm/murmur');
const SCRIPT = path.join(__dirname, 'helm-render', 'helm-template.mjs');
const SKIP_EXIT_CODE = 3;

export type HelmRenderer = { bin: string; skip?: undefined } | { bin?: undefined; skip: string };

/** The renderer's path, building it (and installing Go) if needed; or why it cannot run here. */
export function helmRenderer(): HelmRenderer {
  const r = spawnSync(process.execPath, [SCRIPT, '--which'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (r.status === SKIP_EXIT_CODE) {
    return { skip: r.stdout.replace(/^SKIP:\s*/, '').trim() };
  }
  if (r.status !== 0) {
    throw new Error(`helm-template.mjs --which failed:\n${r.stderr}`);
  }
  return { bin: r.stdout.trim() };
}

export interface RenderOptions {
  /** default: CHART */
  chart?: string;
  /** default: murmur */
  release?: string;
  /** default: murmur */
  namespace?: string;
  /** a values file's content (given to the renderer as `-f -`) */
  values?: unknown;
  /** --set arguments */
  set?: string[];
  /** fail on a reference to a value that does not exist (as `helm lint --strict`); default true */
  strict?: boolean;
}

/** One rendered document: the template it came from and the object as the API server reads it. */
export interface Rendered {
  source: string;
  object: K8sObject;
}

function run(bin: string, options: RenderOptions, extra: string[]): string {
  const args = [
    options.release ?? 'murmur',
    options.chart ?? CHART,
    '--namespace',
    options.namespace ?? 'murmur',
    ...(options.strict === false ? [] : ['--strict']),
    ...(options.values === undefined ? [] : ['--values', '-']),
    ...(options.set ?? []).flatMap((s) => ['--set', s]),
    ...extra,
  ];
  const r = spawnSync(bin, args, {
    cwd: REPO_ROOT,
    input: options.values === undefined ? '' : JSON.stringify(options.values),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`helm template failed: ${(r.stderr || String(r.error)).trim()}`);
  }
  return r.stdout;
}

/** Renders the chart's manifests (NOTES.txt and partials excluded); throws the renderer's error. */
export function helmTemplate(bin: string, options: RenderOptions = {}): Rendered[] {
  return JSON.parse(run(bin, options, ['--output', 'json'])) as Rendered[];
}

/** Renders NOTES.txt. */
export function helmNotes(bin: string, options: RenderOptions = {}): string {
  return run(bin, options, ['--notes']);
}
