import {
  baseConfigSchema,
  cacheConfigSchema,
  httpConfigSchema,
  mainDatabaseConfigSchema,
  shardDatabaseConfigSchema,
} from './config-schemas';
import { ConfigError, loadConfig } from './load-config';

describe(loadConfig.name, () => {
  it('names every bad variable', () => {
    expect(() =>
      loadConfig(baseConfigSchema.extend(mainDatabaseConfigSchema.shape), {
        SERVICE_NAME: 'nope',
        DATABASE_URL: 'mysql://x',
      }),
    ).toThrow(ConfigError);
    try {
      loadConfig(baseConfigSchema.extend(mainDatabaseConfigSchema.shape), {
        SERVICE_NAME: 'nope',
        DATABASE_URL: 'mysql://x',
      });
    } catch (error) {
      expect((error as ConfigError).issues.join('\n')).toMatch(/SERVICE_NAME[\s\S]*DATABASE_URL/);
    }
  });

  it('chooses the tracing instrumentations from a list of known names', () => {
    const base = { SERVICE_NAME: 'user' };
    expect(loadConfig(baseConfigSchema, base).TRACING_INSTRUMENTATIONS).toEqual([
      'server',
      'pg',
      'ioredis',
      'grpc',
      'pino',
    ]);
    expect(
      loadConfig(baseConfigSchema, { ...base, TRACING_INSTRUMENTATIONS: ' http, pg ' })
        .TRACING_INSTRUMENTATIONS,
    ).toEqual(['http', 'pg']);
    expect(
      loadConfig(baseConfigSchema, { ...base, TRACING_INSTRUMENTATIONS: '' })
        .TRACING_INSTRUMENTATIONS,
    ).toEqual([]);
    expect(() =>
      loadConfig(baseConfigSchema, { ...base, TRACING_INSTRUMENTATIONS: 'server,express' }),
    ).toThrow(ConfigError);
  });

  it('reads the trusted proxy addresses as IPs or CIDRs, loopback by default', () => {
    const base = { PORT: '3000' };
    expect(loadConfig(httpConfigSchema, base).TRUST_PROXY_ADDRESSES).toEqual([
      '127.0.0.0/8',
      '::1/128',
    ]);
    expect(
      loadConfig(httpConfigSchema, { ...base, TRUST_PROXY_ADDRESSES: '10.244.0.0/16, fd00::/8' })
        .TRUST_PROXY_ADDRESSES,
    ).toEqual(['10.244.0.0/16', 'fd00::/8']);
    for (const bad of ['10.244.0.0/33', 'gateway', '10.0.0.0/8/1', '::1/129', '*']) {
      expect(() => loadConfig(httpConfigSchema, { ...base, TRUST_PROXY_ADDRESSES: bad })).toThrow(
        ConfigError,
      );
    }
  });

  it('parses lists, booleans and shard JSON', () => {
    const cfg = loadConfig(mainDatabaseConfigSchema, {
      DATABASE_URL: 'postgres://a@h/db',
      DATABASE_REPLICA_URLS: 'postgres://a@r1/db, postgres://a@r2/db',
      READ_REPLICAS_ENABLED: 'false',
    });
    expect(cfg.DATABASE_REPLICA_URLS).toHaveLength(2);
    expect(cfg.READ_REPLICAS_ENABLED).toBe(false);
    const shards = loadConfig(shardDatabaseConfigSchema, {
      SHARDS: '[{"primary":"postgres://a@s0/p"}]',
      SHARD_MAP: '{"3":0}',
    });
    expect(shards.SHARDS[0].replicas).toEqual([]);
    expect(shards.SHARD_MAP).toEqual({ '3': 0 });
    expect(() => loadConfig(shardDatabaseConfigSchema, { SHARDS: 'not json' })).toThrow(/SHARDS/);
  });

  it('reads the L2 backend (Redis unless told) and the Memcached nodes, refusing a bad node', () => {
    expect(loadConfig(cacheConfigSchema, {})).toMatchObject({
      CACHE_L2_BACKEND: 'redis',
      MEMCACHED_SERVERS: [],
      MEMCACHED_TIMEOUT_MS: 200,
    });
    expect(
      loadConfig(cacheConfigSchema, {
        CACHE_L2_BACKEND: 'memcached',
        MEMCACHED_SERVERS: '127.0.0.1:16391, cache-2.local:11211',
      }),
    ).toMatchObject({
      CACHE_L2_BACKEND: 'memcached',
      MEMCACHED_SERVERS: ['127.0.0.1:16391', 'cache-2.local:11211'],
    });
    expect(() => loadConfig(cacheConfigSchema, { MEMCACHED_SERVERS: 'no-port' })).toThrow(
      /MEMCACHED_SERVERS/,
    );
    expect(() => loadConfig(cacheConfigSchema, { CACHE_L2_BACKEND: 'dragonfly' })).toThrow(
      /CACHE_L2_BACKEND/,
    );
  });
});
