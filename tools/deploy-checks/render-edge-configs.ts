/**
 * Writes the NGINX files of compose, deploy/k8s and the Helm chart (see edge-configs.ts):
 *   npm run build && node dist/tools/deploy-checks/render-edge-configs.js
 * Run it after changing infra/nginx/conf.d or the generator; the deploy-checks tests fail until
 * the committed files match.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { edgeFiles } from './edge-configs';

// Run from the repository root (as the npm scripts do).
const REPO_ROOT = process.cwd();
const read = (file: string): string => readFileSync(path.join(REPO_ROOT, file), 'utf8');

for (const { file, content } of edgeFiles(read)) {
  const target = path.join(REPO_ROOT, file);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, content());
  console.log(`wrote ${file}`);
}
