import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './manifests';

const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
const ignored = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** The last stage is what runs: from its FROM to the end. */
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

describe('Dockerfile', () => {
  it('runs as a non-root user in production mode with a health check and tini', () => {
    expect(runtime).toMatch(/^USER 1000:1000$/m);
    expect(runtime).toMatch(/NODE_ENV=production/);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n.*\/health\/live/m);
    expect(runtime).toMatch(/ENTRYPOINT \["\/usr\/bin\/tini", "--", "node"\]/);
  });

  it('ships only production dependencies and the compiled output', () => {
    expect(runtime).toMatch(/COPY --from=prod-deps .* node_modules/);
    expect(runtime).toMatch(/COPY --from=build .* dist/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(runtime).not.toMatch(/COPY (libs|services|tools)\//);
  });

  it('builds from a pinned multi-arch base, downloading nothing per architecture', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    const instructions = dockerfile
      .split('\n')
      .filter((l) => !l.trim().startsWith('#'))
      .join('\n');
    expect(instructions).not.toMatch(/\b(curl|wget)\b|amd64|arm64|x86_64|aarch64/);
    expect(dockerfile).toMatch(/--ignore-scripts/);
  });

  it('copies only paths that exist and that .dockerignore lets through', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)].flatMap(
      (m) => m[1].split(/\s+/),
    );
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      const clean = source.replace(/\/$/, '');
      expect([clean, existsSync(path.join(REPO_ROOT, clean)), ignored.includes(clean)]).toEqual([
        clean,
        true,
        false,
      ]);
    }
  });

  it('keeps node_modules, dist, git and local state out of the build context', () => {
    for (const entry of ['**/node_modules', 'dist', '.git', '.stack', '.stack-test', 'tmp']) {
      expect(ignored).toContain(entry);
    }
  });
});
