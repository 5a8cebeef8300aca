import type { OutboxEvent } from '@murmur/contracts';
import type { OutboxRelay } from '@murmur/queue';
import type { UserRow } from '../users/user.entity';
import { UserError, UserErrorCode } from '../users/users.errors';
import type { UsersService } from '../users/users.service';
import type { FollowResult, FollowsRepository } from './follows.repository';
import { FollowsService } from './follows.service';

const row = (id: string): UserRow => ({
  id,
  username: `u${id}`,
  email: `u${id}@example.com`,
  password_hash: 'h',
  display_name: `u${id}`,
  bio: '',
  follower_count: 1,
  following_count: 1,
  created_at: new Date(0),
  updated_at: new Date(0),
});

const event = (name: 'user.followed' | 'user.unfollowed', seq: string): OutboxEvent => ({
  id: `evt-main-${seq}`,
  source: 'main',
  seq,
  name,
  payload: { followerId: '1', followeeId: '2' },
});

/** An edge set over the users it knows; answers like the real repository. */
class FakeFollowsRepository implements Pick<FollowsRepository, 'follow' | 'unfollow'> {
  readonly users = new Set(['1', '2']);
  readonly edges = new Set<string>();
  calls = 0;

  follow(followerId: string, followeeId: string): Promise<FollowResult> {
    return Promise.resolve(this.change(followerId, followeeId, true));
  }

  unfollow(followerId: string, followeeId: string): Promise<FollowResult> {
    return Promise.resolve(this.change(followerId, followeeId, false));
  }

  private change(followerId: string, followeeId: string, add: boolean): FollowResult {
    this.calls++;
    if (!this.users.has(followeeId)) {
      return undefined;
    }
    const key = `${followerId}->${followeeId}`;
    if (this.edges.has(key) === add) {
      return { changed: false };
    }
    if (add) {
      this.edges.add(key);
    } else {
      this.edges.delete(key);
    }
    return {
      changed: true,
      rows: [row(followerId), row(followeeId)],
      events: [event(add ? 'user.followed' : 'user.unfollowed', String(this.calls))],
    };
  }
}

class RecordingOutbox implements Pick<OutboxRelay, 'publish'> {
  readonly published: OutboxEvent[] = [];

  publish(events: OutboxEvent[]): Promise<void> {
    this.published.push(...events);
    return Promise.resolve();
  }
}

class RecordingUsers implements Pick<UsersService, 'cacheProfiles'> {
  readonly cached: string[][] = [];

  cacheProfiles(rows: UserRow[]): Promise<void> {
    this.cached.push(rows.map((r) => r.id));
    return Promise.resolve();
  }
}

const setup = () => {
  const repository = new FakeFollowsRepository();
  const outbox = new RecordingOutbox();
  const users = new RecordingUsers();
  const sut = new FollowsService(
    repository as unknown as FollowsRepository,
    users as unknown as UsersService,
    outbox,
  );
  return { repository, outbox, users, sut };
};

describe(FollowsService.name, () => {
  it('refuses to follow oneself (cannot_follow_self, invalid) without touching the database', async () => {
    const { repository, sut } = setup();
    const attempt = sut.follow('1', '1');
    await expect(attempt).rejects.toEqual(
      new UserError(UserErrorCode.CannotFollowSelf, 'You cannot follow yourself.'),
    );
    await expect(attempt).rejects.toHaveProperty('kind', 'invalid');
    await expect(sut.unfollow('1', '1')).rejects.toHaveProperty(
      'code',
      UserErrorCode.CannotFollowSelf,
    );
    expect(repository.calls).toBe(0);
  });

  it('answers user_not_found for a followee that does not exist', async () => {
    const { sut } = setup();
    await expect(sut.follow('1', '999')).rejects.toEqual(
      new UserError(UserErrorCode.NotFound, 'No user with id 999.'),
    );
    await expect(sut.unfollow('1', '999')).rejects.toHaveProperty('code', UserErrorCode.NotFound);
  });

  it('publishes the committed event and re-caches both profiles when a follow changes the graph', async () => {
    const { outbox, users, sut } = setup();
    await expect(sut.follow('1', '2')).resolves.toBeUndefined();
    expect(outbox.published.map((e) => e.name)).toEqual(['user.followed']);
    expect(users.cached).toEqual([['1', '2']]);
  });

  it('publishes nothing and caches nothing for a follow that was already there', async () => {
    const { outbox, users, sut } = setup();
    await sut.follow('1', '2');
    await expect(sut.follow('1', '2')).resolves.toBeUndefined();
    expect(outbox.published).toHaveLength(1);
    expect(users.cached).toHaveLength(1);
  });

  it('treats unfollowing someone not followed as a no-op, and a real unfollow as an event', async () => {
    const { outbox, sut } = setup();
    await expect(sut.unfollow('1', '2')).resolves.toBeUndefined();
    expect(outbox.published).toEqual([]);
    await sut.follow('1', '2');
    await sut.unfollow('1', '2');
    expect(outbox.published.map((e) => e.name)).toEqual(['user.followed', 'user.unfollowed']);
  });
});
