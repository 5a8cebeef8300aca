import type { SessionStore } from '@murmur/auth';
import type { PasswordHasher } from '../users/password-hasher';
import type { UserRow } from '../users/user.entity';
import type { UsersRepository } from '../users/users.repository';
import { SessionError, SessionErrorCode } from './sessions.errors';
import { SessionsService } from './sessions.service';

const alice: UserRow = {
  id: '11',
  username: 'alice',
  email: 'alice@example.com',
  password_hash: 'hashed(right-password)',
  display_name: 'alice',
  bio: '',
  follower_count: 0,
  following_count: 0,
  created_at: new Date(0),
  updated_at: new Date(0),
};

class FakeUsersRepository implements Pick<
  UsersRepository,
  'findByUsernameForLogin' | 'walPosition'
> {
  findByUsernameForLogin(username: string): Promise<UserRow | undefined> {
    return Promise.resolve(username.toLowerCase() === 'alice' ? alice : undefined);
  }

  walPosition(): Promise<Record<string, string>> {
    return Promise.resolve({ main: '0/16B3748' });
  }
}

/** Records which hashes it was asked to verify: an unknown user must still cost a verification. */
class FakeHasher implements Pick<PasswordHasher, 'verify'> {
  readonly verified: Array<string | undefined> = [];

  verify(hash: string | undefined, password: string): Promise<boolean> {
    this.verified.push(hash);
    return Promise.resolve(hash !== undefined && hash === `hashed(${password})`);
  }
}

class FakeSessionStore implements Pick<SessionStore, 'create'> {
  readonly created: Array<{ userId: string; lsn: Record<string, string> }> = [];

  create(userId: string, lsn: Record<string, string> = {}): ReturnType<SessionStore['create']> {
    this.created.push({ userId, lsn });
    return Promise.resolve({
      token: `token-${this.created.length}`,
      session: { userId, id: `sid-${this.created.length}`, createdAt: 0, lsn },
      maxAgeSeconds: 3_600,
    });
  }
}

const setup = () => {
  const hasher = new FakeHasher();
  const store = new FakeSessionStore();
  const sut = new SessionsService(
    new FakeUsersRepository() as unknown as UsersRepository,
    hasher as unknown as PasswordHasher,
    store as unknown as SessionStore,
  );
  return { hasher, store, sut };
};

const badCredentials = new SessionError(
  SessionErrorCode.BadCredentials,
  'Wrong username or password.',
);

describe(SessionsService.name, () => {
  it('creates a session that starts at the primary’s WAL position for the right password', async () => {
    const { store, sut } = setup();
    await expect(sut.login('Alice', 'right-password')).resolves.toEqual({
      token: 'token-1',
      userId: '11',
      maxAgeSeconds: 3_600,
    });
    expect(store.created).toEqual([{ userId: '11', lsn: { main: '0/16B3748' } }]);
  });

  it('refuses a wrong password with bad_credentials (unauthorized) and creates no session', async () => {
    const { store, sut } = setup();
    const attempt = sut.login('alice', 'wrong-password');
    await expect(attempt).rejects.toEqual(badCredentials);
    await expect(attempt).rejects.toHaveProperty('kind', 'unauthorized');
    expect(store.created).toEqual([]);
  });

  it('refuses an unknown username with the same error, after a verification all the same', async () => {
    const { hasher, store, sut } = setup();
    await expect(sut.login('nobody', 'right-password')).rejects.toEqual(badCredentials);
    // the hasher was still called (with no hash): the timing does not tell which names exist
    expect(hasher.verified).toEqual([undefined]);
    expect(store.created).toEqual([]);
  });
});
