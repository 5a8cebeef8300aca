import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from './manifests';

const SCRIPTS = [
  'deploy/kind/up.sh',
  'deploy/kind/down.sh',
  'deploy/k8s/base/postgres/entrypoint.sh',
  'deploy/docker/postgres/replica-entrypoint.sh',
  'deploy/docker/postgres/10-replication.sh',
];

describe('kind scripts', () => {
  it.each(SCRIPTS)('%s parses (bash -n)', (script) => {
    const r = spawnSync('bash', ['-n', path.join(REPO_ROOT, script)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('npm run kind:up / kind:down run them', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['kind:up']).toBe('bash deploy/kind/up.sh');
    expect(pkg.scripts['kind:down']).toBe('bash deploy/kind/down.sh');
  });

  it('creates the cluster from the committed kind config, with the ports the docs promise', () => {
    const up = readFileSync(path.join(REPO_ROOT, 'deploy/kind/up.sh'), 'utf8');
    expect(up).toContain('deploy/kind/kind-config.yaml');
    expect(up).toContain('--kubelet-insecure-tls');
    const config = YAML.parse(
      readFileSync(path.join(REPO_ROOT, 'deploy/kind/kind-config.yaml'), 'utf8'),
    ) as {
      kind: string;
      nodes: { extraPortMappings?: { hostPort: number; listenAddress?: string }[] }[];
    };
    expect(config.kind).toBe('Cluster');
    const mappings = config.nodes.flatMap((n) => n.extraPortMappings ?? []);
    // the gateway on this machine only; Jaeger's UI is not mapped (kubectl port-forward)
    expect(mappings.map((m) => [m.hostPort, m.listenAddress])).toEqual([[8080, '127.0.0.1']]);
  });
});
