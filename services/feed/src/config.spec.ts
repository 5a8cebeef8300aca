import { environmentFit, loadConfig } from '@murmur/config';
import { feedApiConfig, feedWorkerConfig } from './config';

const redis = { SERVICE_NAME: 'feed', PORT: '3401', REDIS_URL: 'redis://127.0.0.1' };
const databases = {
  DATABASE_URL: 'postgres://a@main/murmur',
  SHARDS: '[{"primary":"postgres://a@s0/posts"}]',
};

describe('feed entry points', () => {
  it('starts the worker from the databases and the data Redis, without the post-service address', () => {
    const env = { ...redis, ...databases };
    expect(environmentFit(feedWorkerConfig, env)).toEqual({
      missing: [],
      unread: [],
      problems: [],
    });
    expect(loadConfig(feedWorkerConfig.schema, env)).toMatchObject({ FANOUT_CHUNK_SIZE: 1_000 });
    // what only the API reads: the gRPC client, sessions, rate limits, fan-in reads
    const apiOnly = [
      'POST_GRPC_URL',
      'SESSION_IDLE_SECONDS',
      'RATE_LIMITS_ENABLED',
      'FANIN_MAX_FOLLOWEES',
    ];
    expect(apiOnly.filter((name) => feedWorkerConfig.variables.includes(name))).toEqual([]);
  });

  it('starts the API from the post-service address, reading no database or queue settings', () => {
    const env = { ...redis, POST_GRPC_URL: 'ipv4:127.0.0.1:3211' };
    expect(environmentFit(feedApiConfig, env).problems).toEqual([]);
    expect(
      environmentFit(feedApiConfig, { ...env, ...databases, QUEUE_ATTEMPTS: '3' }).unread,
    ).toEqual([...Object.keys(databases), 'QUEUE_ATTEMPTS']);
  });
});
