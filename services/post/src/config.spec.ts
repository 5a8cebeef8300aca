import { environmentFit, loadConfig } from '@murmur/config';
import { postApiConfig, postWorkerConfig } from './config';

const SHARDS = '[{"primary":"postgres://a@s0/posts"}]';
/** What a post worker needs, and all it is given. */
const workerEnv = { SERVICE_NAME: 'post', PORT: '3301', REDIS_URL: 'redis://127.0.0.1', SHARDS };
/** What only the API reads: its gRPC server, the cache, sessions, rate limits, the outbox. */
const apiOnly = {
  GRPC_PORT: '3211',
  CACHE_L1_ENABLED: 'true',
  SESSION_IDLE_SECONDS: '600',
  RATE_LIMIT_WRITES_PER_USER: '60/60',
  OUTBOX_POLL_MS: '500',
};
const fits = { missing: [], unread: [], problems: [] };

describe('post entry points', () => {
  it('starts the worker from its shards and the data Redis alone (no gRPC port)', () => {
    expect(environmentFit(postWorkerConfig, workerEnv)).toEqual(fits);
    expect(environmentFit(postWorkerConfig, apiOnly).unread).toEqual(Object.keys(apiOnly));
  });

  it('requires the gRPC port of the API, which reads the rest of those settings too', () => {
    expect(environmentFit(postApiConfig, workerEnv).missing).toEqual(['GRPC_PORT']);
    expect(environmentFit(postApiConfig, { ...workerEnv, ...apiOnly })).toEqual(fits);
    expect(loadConfig(postApiConfig.schema, { ...workerEnv, ...apiOnly })).toMatchObject({
      GRPC_PORT: 3211,
      SESSION_IDLE_SECONDS: 600,
    });
  });
});
