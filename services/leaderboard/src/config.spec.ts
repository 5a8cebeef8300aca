import { environmentFit } from '@murmur/config';
import { leaderboardApiConfig, leaderboardWorkerConfig } from './config';

describe('leaderboard entry points', () => {
  // Both start from the main database and the data Redis; each reads what the other does not.
  const env = {
    SERVICE_NAME: 'leaderboard',
    PORT: '3501',
    REDIS_URL: 'redis://127.0.0.1',
    DATABASE_URL: 'postgres://a@main/murmur',
  };

  it.each([
    [
      'worker',
      leaderboardWorkerConfig,
      { RATE_LIMITS_ENABLED: 'true', LEADERBOARD_TOP_CACHE_MS: '0', SESSION_IDLE_SECONDS: '600' },
    ],
    ['API', leaderboardApiConfig, { QUEUE_CONCURRENCY: '2', LEADERBOARD_VIEW_REFRESH_MS: '5000' }],
  ])('starts the %s from the same few variables, reading none of %j', (_name, entry, notRead) => {
    expect(environmentFit(entry, env)).toEqual({ missing: [], unread: [], problems: [] });
    expect(environmentFit(entry, { ...env, ...notRead }).unread).toEqual(Object.keys(notRead));
  });
});
