import { environmentFit, loadConfig } from '@murmur/config';
import { userApiConfig } from './config';

describe('user entry point', () => {
  it('starts from the main database and the data Redis alone, reading no post-shard setting', () => {
    const env = { SERVICE_NAME: 'user', PORT: '3001', REDIS_URL: 'redis://127.0.0.1' };
    const main = { ...env, DATABASE_URL: 'postgres://a@main/murmur' };
    expect(environmentFit(userApiConfig, env).missing).toEqual(['DATABASE_URL']);
    expect(environmentFit(userApiConfig, { ...main, SHARDS: '[]' })).toEqual({
      missing: [],
      unread: ['SHARDS'],
      problems: [],
    });
    expect(loadConfig(userApiConfig.schema, main)).toMatchObject({ ARGON2_TIME_COST: 2 });
  });
});
