// Validates Kubernetes objects (a JSON array on stdin) against the OpenAPI schemas bundled in
// kubernetes-models; prints a JSON array of error strings. A child process because
// kubernetes-models is ESM-only and Jest runs the specs as CommonJS.
import { Buffer } from 'node:buffer';
import * as models from 'kubernetes-models';

const chunks = [];
for await (const chunk of process.stdin) {
  chunks.push(chunk);
}
const objects = JSON.parse(Buffer.concat(chunks).toString('utf8'));

// `networking.k8s.io` → networkingK8sIo; the core group (`v1`) is models.v1.
const groupKey = (group) =>
  group.replace(/[.-]([a-z0-9])/g, (_, c) => c.toUpperCase()).replace(/\./g, '');

const errors = [];
for (const o of objects) {
  const id = `${o.kind}/${o.metadata?.name}`;
  const [group, version] = o.apiVersion.includes('/')
    ? o.apiVersion.split('/')
    : [null, o.apiVersion];
  const ns = group === null ? models.v1 : models[groupKey(group)]?.[version];
  const Model = ns?.[o.kind];
  if (!Model) {
    errors.push(`${id}: no schema for ${o.apiVersion} ${o.kind}`);
    continue;
  }
  try {
    new Model(o).validate();
  } catch (e) {
    errors.push(`${id}: ${e.message}`);
  }
}
process.stdout.write(JSON.stringify(errors));
