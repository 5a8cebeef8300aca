import type { SessionStore } from '@murmur/auth';
import type { LoginLimiter, LoginTicket } from '@murmur/rate-limit';
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

/** Admits or refuses as told, and records which attempts were cleared as right. */
class FakeLoginLimiter implements Pick<LoginLimiter, 'admit' | 'succeeded'> {
  refuse: Error | undefined;
  readonly admitted: Array<[string, string]> = [];
  readonly cleared: LoginTicket[] = [];

  admit(username: string, address: string): Promise<LoginTicket | undefined> {
    if (this.refuse) {
      return Promise.reject(this.refuse);
    }
    this.admitted.push([username, address]);
    return Promise.resolve({
      accountKey: `a:${username}`,
      addressKey: `i:${address}`,
      member: 'm',
      failuresBefore: 0,
    });
  }

  succeeded(ticket: LoginTicket | undefined): Promise<void> {
    this.cleared.push(ticket as LoginTicket);
    return Promise.resolve();
  }
}

const setup = () => {
  const hasher = new FakeHasher();
  const store = new FakeSessionStore();
  const limiter = new FakeLoginLimiter();
  const sut = new SessionsService(
    new FakeUsersRepository() as unknown as UsersRepository,
    hasher as unknown as PasswordHasher,
    store as unknown as SessionStore,
    limiter as unknown as LoginLimiter,
  );
  return { hasher, store, limiter, sut };
};

const badCredentials = new SessionError(
  SessionErrorCode.BadCredentials,
  'Wrong username or password.',
);

describe(SessionsService.name, () => {
  it('creates a session that starts at the primary’s WAL position for the right password', async () => {
    const { store, sut } = setup();
    await expect(sut.login('Alice', 'right-password', '10.0.0.1')).resolves.toEqual({
      token: 'token-1',
      userId: '11',
      maxAgeSeconds: 3_600,
    });
    expect(store.created).toEqual([{ userId: '11', lsn: { main: '0/16B3748' } }]);
  });

  it('clears the throttle’s count only for the right password', async () => {
    const { limiter, sut } = setup();
    await expect(sut.login('alice', 'wrong-password', '10.0.0.1')).rejects.toEqual(badCredentials);
    expect(limiter.cleared).toEqual([]);
    await sut.login('alice', 'right-password', '10.0.0.2');
    expect(limiter.admitted).toEqual([
      ['alice', '10.0.0.1'],
      ['alice', '10.0.0.2'],
    ]);
    expect(limiter.cleared).toEqual([expect.objectContaining({ addressKey: 'i:10.0.0.2' })]);
  });

  it('checks no password when the throttle refuses the attempt', async () => {
    const { hasher, limiter, store, sut } = setup();
    limiter.refuse = new Error('login_backoff');
    await expect(sut.login('alice', 'right-password', '10.0.0.1')).rejects.toBe(limiter.refuse);
    expect(hasher.verified).toEqual([]);
    expect(store.created).toEqual([]);
  });

  it('refuses a wrong password with bad_credentials (unauthorized) and creates no session', async () => {
    const { store, sut } = setup();
    const attempt = sut.login('alice', 'wrong-password', '10.0.0.1');
    await expect(attempt).rejects.toEqual(badCredentials);
    await expect(attempt).rejects.toHaveProperty('kind', 'unauthorized');
    expect(store.created).toEqual([]);
  });

  it('refuses an unknown username with the same error, after a verification all the same', async () => {
    const { hasher, store, sut } = setup();
    await expect(sut.login('nobody', 'right-password', '10.0.0.1')).rejects.toEqual(badCredentials);
    // the hasher was still called (with no hash): the timing does not tell which names exist
    expect(hasher.verified).toEqual([undefined]);
    expect(store.created).toEqual([]);
  });
});
