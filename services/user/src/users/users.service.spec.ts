import type { CacheConfig } from '@murmur/config';
import { CacheFactory } from '@murmur/cache';
import type { Redis } from 'ioredis';
import type { PasswordHasher } from './password-hasher';
import type { UserRow } from './user.entity';
import { UserError, UserErrorCode } from './users.errors';
import { UniqueViolation, type UsersRepository } from './users.repository';

import { UsersService } from './users.service';

/** Caches off: every read reaches the fake repository, so the service's own logic is what is seen. */
const NO_CACHE: CacheConfig = {
  CACHE_L1_ENABLED: false,
  CACHE_L2_ENABLED: false,
  CACHE_L2_BACKEND: 'redis',
  MEMCACHED_SERVERS: [],
  MEMCACHED_TIMEOUT_MS: 200,
  CACHE_L1_MAX_ENTRIES: 10,
  CACHE_L1_MAX_BYTES: 1024,
  CACHE_DEFAULT_TTL_SECONDS: 60,
  CACHE_WARM_KEYS: 0,
};

const userRow = (id: string, username: string, patch: Partial<UserRow> = {}): UserRow => ({
  id,
  username,
  email: `${username}@example.com`,
  password_hash: `hash:${username}`,
  display_name: username,
  bio: '',
  follower_count: 0,
  following_count: 0,
  created_at: new Date('2026-02-01T00:00:00Z'),
  updated_at: new Date('2026-02-01T00:00:00Z'),
  ...patch,
});

/** Users in memory; unique on lower(username) like the real index (emails are not unique). */
class FakeUsersRepository implements Pick<
  UsersRepository,
  'insert' | 'findById' | 'updateProfile' | 'usernameTaken'
> {
  readonly rows: UserRow[] = [];
  inserted: Array<{ username: string; email: string; passwordHash: string }> = [];

  insert(user: { username: string; email: string; passwordHash: string }): Promise<UserRow> {
    if (this.rows.some((r) => r.username.toLowerCase() === user.username.toLowerCase())) {
      return Promise.reject(new UniqueViolation('users_username_lower'));
    }
    this.inserted.push(user);
    const row = userRow(String(this.rows.length + 1), user.username, {
      email: user.email,
      password_hash: user.passwordHash,
    });
    this.rows.push(row);
    return Promise.resolve(row);
  }

  /** what the primary says before the insert; `racing` plays a sign-up that lands in between */
  racing = false;

  usernameTaken(username: string): Promise<boolean> {
    return Promise.resolve(
      !this.racing && this.rows.some((r) => r.username.toLowerCase() === username.toLowerCase()),
    );
  }

  findById(id: string): Promise<UserRow | undefined> {
    return Promise.resolve(this.rows.find((r) => r.id === id));
  }

  updateProfile(
    id: string,
    patch: { displayName?: string; bio?: string },
  ): Promise<UserRow | undefined> {
    const row = this.rows.find((r) => r.id === id);
    if (row) {
      row.display_name = patch.displayName ?? row.display_name;
      row.bio = patch.bio ?? row.bio;
    }
    return Promise.resolve(row);
  }
}

class FakeHasher implements Pick<PasswordHasher, 'hash' | 'verify'> {
  hashed = 0;

  hash(password: string): Promise<string> {
    this.hashed++;
    return Promise.resolve(`hashed(${password})`);
  }

  verify(hash: string | undefined, password: string): Promise<boolean> {
    return Promise.resolve(hash === `hashed(${password})`);
  }
}

const setup = () => {
  const repository = new FakeUsersRepository();
  const hasher = new FakeHasher();
  const caches = new CacheFactory(undefined as unknown as Redis, NO_CACHE);
  const sut = new UsersService(
    repository as unknown as UsersRepository,
    hasher as unknown as PasswordHasher,
    caches,
  );
  return { repository, hasher, sut };
};

describe(UsersService.name, () => {
  describe('register', () => {
    it('stores the hash, never the password, and the email lower-cased', async () => {
      const { repository, sut } = setup();
      await expect(
        sut.register({ username: 'Alice', email: 'Alice@Example.COM', password: 'secret-pw' }),
      ).resolves.toMatchObject({ id: '1', username: 'Alice' });
      expect(repository.inserted).toEqual([
        { username: 'Alice', email: 'alice@example.com', passwordHash: 'hashed(secret-pw)' },
      ]);
    });

    it('answers username_taken (a conflict) for a taken username, before hashing the password', async () => {
      const { hasher, sut } = setup();
      await sut.register({ username: 'bob', email: 'bob@example.com', password: 'pw-123456' });
      const attempt = sut.register({
        username: 'BOB',
        email: 'other@example.com',
        password: 'pw-123456',
      });
      await expect(attempt).rejects.toEqual(
        new UserError(UserErrorCode.UsernameTaken, 'The username "BOB" is taken.'),
      );
      await expect(attempt).rejects.toHaveProperty('kind', 'conflict');
      expect(hasher.hashed).toBe(1);
    });

    it('answers username_taken when the index refuses a name taken since the check', async () => {
      const { repository, sut } = setup();
      await sut.register({ username: 'bo', email: 'bo@example.com', password: 'pw-123456' });
      repository.racing = true;
      await expect(
        sut.register({ username: 'Bo', email: 'b2@example.com', password: 'pw-123456' }),
      ).rejects.toEqual(new UserError(UserErrorCode.UsernameTaken, 'The username "Bo" is taken.'));
    });

    it('accepts an email another account already names, like a new one (no enumeration)', async () => {
      const { repository, sut } = setup();
      await sut.register({ username: 'carol', email: 'c@example.com', password: 'pw-123456' });
      await expect(
        sut.register({ username: 'carol2', email: 'C@example.com', password: 'pw-123456' }),
      ).resolves.toMatchObject({ username: 'carol2', email: 'c@example.com' });
      expect(repository.rows).toHaveLength(2);
    });

    it('lets an error that is not a unique violation through unchanged', async () => {
      const { repository, sut } = setup();
      const broken = new Error('connection reset');
      jest.spyOn(repository, 'insert').mockRejectedValueOnce(broken);
      await expect(
        sut.register({ username: 'dave', email: 'd@example.com', password: 'pw-123456' }),
      ).rejects.toBe(broken);
    });
  });

  describe('getProfile', () => {
    it('maps the row to its public profile', async () => {
      const { repository, sut } = setup();
      repository.rows.push(userRow('42', 'erin', { follower_count: 3, bio: 'hi' }));
      await expect(sut.getProfile('42')).resolves.toEqual({
        id: '42',
        username: 'erin',
        displayName: 'erin',
        bio: 'hi',
        followerCount: 3,
        followingCount: 0,
        createdAt: '2026-02-01T00:00:00.000Z',
        version: new Date('2026-02-01T00:00:00Z').getTime(),
      });
    });

    it('answers user_not_found for an id nobody has', async () => {
      const { sut } = setup();
      await expect(sut.getProfile('404')).rejects.toEqual(
        new UserError(UserErrorCode.NotFound, 'No user with id 404.'),
      );
    });
  });

  describe('updateProfile', () => {
    it('returns the updated profile', async () => {
      const { repository, sut } = setup();
      repository.rows.push(userRow('7', 'frank'));
      await expect(sut.updateProfile('7', { bio: 'new bio' })).resolves.toMatchObject({
        id: '7',
        bio: 'new bio',
        displayName: 'frank',
      });
    });

    it('answers user_not_found when no row was updated', async () => {
      const { sut } = setup();
      await expect(sut.updateProfile('8', { bio: 'x' })).rejects.toEqual(
        new UserError(UserErrorCode.NotFound, 'No user with id 8.'),
      );
    });
  });
});
