import { ApiClient, edgeApi, sumMetric, testTopology, withPostgres } from '@murmur/testing';
import { Redis } from 'ioredis';

/**
 * OWASP API8:2023 (security misconfiguration) / API10 (unsafe consumption): the cache store is
 * an input. The attack: whoever reaches the cache Redis (any pod, without ACLs) writes an entry
 * under a real profile's key: wrong types, missing fields, extra properties, a version so high
 * the version guard would keep it, or bytes that are not JSON. Before the fix the services
 * parsed entries unchecked and answered the forged object (or crashed the handler on bad JSON).
 * Now every entry read from L2 is checked against the cache's schema: a bad one is a miss, the
 * profile comes from Postgres, and its valid entry replaces the forged one.
 */
const stack = edgeApi();
const topology = testTopology();
const redis = new Redis(topology.redis.find((r) => r.purpose === 'cache')?.port ?? 0, '127.0.0.1');
const anonymous = new ApiClient(stack.baseUrl);
const profileKey = (id: string): string => `cache:profile:${id}`;
const refused = (reason: string): Promise<number> =>
  sumMetric('user', 'murmur_cache_invalid_entries_total', { cache: 'profile', reason });

/**
 * A user row written past the service (as an import or the seeder would): no process's L1 has
 * its profile, so the first read of it takes what L2 holds.
 */
async function uncachedUser(prefix: string): Promise<{ id: string; username: string }> {
  const username = `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const id = await withPostgres(
    'pg-main-primary',
    topology.database.name,
    async (c) =>
      (
        await c.query<{ id: string }>(
          `INSERT INTO users (username, email, password_hash, display_name)
           VALUES ($1, $2, 'x', 'Real Name') RETURNING id::text AS id`,
          [username, `${username}@example.test`],
        )
      ).rows[0].id,
  );
  return { id, username };
}

interface ProfileBody {
  id: string;
  username: string;
  displayName: string;
  followerCount: number;
  followingCount: number;
}

describe('forged cache entries are refused when read (API8, API10)', () => {
  afterAll(async () => {
    await redis.quit();
  });

  it.each([
    [
      'wrong types, extra properties and a huge version',
      'shape',
      JSON.stringify({
        v: { username: '<script>alert(1)</script>', followerCount: 'lots', isAdmin: true },
        ver: 9e15,
        exp: Date.now() + 600_000,
      }),
    ],
    ['bytes that are not JSON', 'json', '{"v":{"username":"<script>"'],
  ])(
    'answers the real profile over an entry with %s, and replaces it',
    async (_, reason, forged) => {
      const user = await uncachedUser('poison');
      await redis.set(profileKey(user.id), forged, 'EX', 600);
      const before = await refused(reason);

      // Enough reads that every user process has answered at least one of them.
      for (let i = 0; i < 6; i++) {
        const read = await anonymous.request<ProfileBody>('GET', `/api/users/${user.id}`);
        expect(read.status).toBe(200);
        expect(read.body).toMatchObject({
          id: user.id,
          username: user.username,
          displayName: 'Real Name',
          followerCount: 0,
          followingCount: 0,
        });
        expect(read.body).not.toHaveProperty('isAdmin');
      }

      const stored = JSON.parse((await redis.get(profileKey(user.id))) ?? 'null') as {
        v: Record<string, unknown>;
        ver: number;
      };
      expect(stored.v).toMatchObject({ id: user.id, username: user.username, followerCount: 0 });
      expect(stored.v).not.toHaveProperty('isAdmin');
      expect(stored.ver).toBeLessThan(9e15);
      // Refused once: the replacement is what every later read found.
      expect(await refused(reason)).toBe(before + 1);
    },
  );
});
