import { createDataSource, MAIN_MIGRATIONS, ReplicatedCluster } from '@murmur/database';
import { superuser, testTopology, withPostgres } from '@murmur/testing';
import type { DataSource } from 'typeorm';
import { FollowsRepository } from '../follows/follows.repository';
import { UniqueViolation, UsersRepository } from './users.repository';

/**
 * The users and follows repositories' SQL against a real Postgres: a scratch database on the test
 * stack's main primary, migrated with the main migrations, so counts and orderings are exact and
 * no stack process or end-to-end test touches these rows.
 */
describe(`${UsersRepository.name} and ${FollowsRepository.name} (real Postgres)`, () => {
  const primary = testTopology().postgres.find((n) => n.cluster === 'main' && n.role === 'primary');
  const database = `users_repository_${process.pid}`;
  let ds: DataSource;
  let cluster: ReplicatedCluster;
  let users: UsersRepository;
  let follows: FollowsRepository;
  let n = 0;

  const newUser = async (prefix = 'u') => {
    n++;
    return users.insert({
      username: `${prefix}_${n}`,
      email: `${prefix}_${n}@example.com`,
      passwordHash: `hash-${n}`,
    });
  };
  const counts = async (id: string) => {
    const row = await users.findById(id);
    return [row?.follower_count, row?.following_count];
  };
  const outbox = async (): Promise<Array<{ name: string; payload: unknown }>> =>
    ds.query('SELECT name, payload FROM outbox ORDER BY id');

  beforeAll(async () => {
    await withPostgres(primary?.name ?? '', 'postgres', (c) =>
      c.query(`CREATE DATABASE ${database}`),
    );
    ds = createDataSource({
      url: `postgres://${superuser()}@127.0.0.1:${primary?.port}/${database}`,
      name: 'users-repository-spec',
      poolSize: 6,
      migrations: MAIN_MIGRATIONS,
    });
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    cluster = new ReplicatedCluster('main', ds, [], { replicasEnabled: false, pollMs: 100 });
    users = new UsersRepository(cluster);
    follows = new FollowsRepository(cluster);
  });

  afterAll(async () => {
    await ds.destroy();
    await withPostgres(primary?.name ?? '', 'postgres', (c) =>
      c.query(`DROP DATABASE ${database} WITH (FORCE)`),
    );
  });

  describe('insert', () => {
    it('returns the stored row: id as text, display name = username, counters at zero', async () => {
      const row = await users.insert({
        username: 'Insert_Me',
        email: 'insert@example.com',
        passwordHash: 'argon2-hash',
      });
      expect(row).toMatchObject({
        username: 'Insert_Me',
        email: 'insert@example.com',
        password_hash: 'argon2-hash',
        display_name: 'Insert_Me',
        bio: '',
        follower_count: 0,
        following_count: 0,
      });
      expect(row.id).toMatch(/^[1-9][0-9]*$/);
      expect(row.created_at).toBeInstanceOf(Date);
      await expect(users.findById(row.id)).resolves.toEqual(row);
    });

    it('raises UniqueViolation on the username index for a username taken in another case', async () => {
      await users.insert({ username: 'dupe_name', email: 'dn1@example.com', passwordHash: 'h' });
      await expect(users.usernameTaken('DUPE_NAME')).resolves.toBe(true);
      await expect(users.usernameTaken('dupe_name_2')).resolves.toBe(false);
      const attempt = users.insert({
        username: 'DUPE_NAME',
        email: 'dn2@example.com',
        passwordHash: 'h',
      });
      await expect(attempt).rejects.toBeInstanceOf(UniqueViolation);
      await expect(attempt).rejects.toHaveProperty('constraint', 'users_username_lower');
    });

    it('stores two accounts with the same unverified email; a verified one is unique', async () => {
      const a = await users.insert({
        username: 'mail_a',
        email: 'same@example.com',
        passwordHash: 'h',
      });
      const b = await users.insert({
        username: 'mail_b',
        email: 'same@example.com',
        passwordHash: 'h',
      });
      expect(a.id).not.toBe(b.id);
      await withPostgres(primary?.name ?? '', database, async (c) => {
        await c.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [a.id]);
        await expect(
          c.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [b.id]),
        ).rejects.toThrow(/users_verified_email_lower/);
      });
    });
  });

  describe('findById / findByUsernameForLogin', () => {
    it('finds nothing for ids nobody has, up to the int8 maximum', async () => {
      await expect(users.findById('9223372036854775807')).resolves.toBeUndefined();
      await expect(users.findById('1')).resolves.not.toBeUndefined();
    });

    it('rejects an id beyond int8 (the database refuses it; nothing is silently truncated)', async () => {
      await expect(users.findById('9223372036854775808')).rejects.toThrow(/out of range/);
    });

    it('finds a user for login by username in any case, with the password hash', async () => {
      const row = await users.insert({
        username: 'LoginCase',
        email: 'login@example.com',
        passwordHash: 'the-hash',
      });
      await expect(users.findByUsernameForLogin('logincase')).resolves.toMatchObject({
        id: row.id,
        password_hash: 'the-hash',
      });
      await expect(users.findByUsernameForLogin('nobody_at_all')).resolves.toBeUndefined();
    });
  });

  describe('updateProfile', () => {
    it('changes only the given fields and moves updated_at forward', async () => {
      const row = await newUser('upd');
      const a = await users.updateProfile(row.id, { bio: 'first bio' });
      expect(a).toMatchObject({ bio: 'first bio', display_name: row.username });
      const b = await users.updateProfile(row.id, { displayName: 'Shown' });
      expect(b).toMatchObject({ bio: 'first bio', display_name: 'Shown' });
      // the version the profile cache orders writes by must grow even within one millisecond
      expect(b?.updated_at.getTime()).toBeGreaterThan(a?.updated_at.getTime() ?? Infinity);
      expect(a?.updated_at.getTime()).toBeGreaterThan(row.updated_at.getTime());
    });

    it('returns undefined for a user that does not exist', async () => {
      await expect(
        users.updateProfile('9223372036854775807', { bio: 'x' }),
      ).resolves.toBeUndefined();
    });
  });

  describe('follow / unfollow', () => {
    it('adds the edge, both counters and one user.followed event', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await ds.query('TRUNCATE outbox');
      const result = await follows.follow(a.id, b.id);
      expect(result).toMatchObject({ changed: true });
      const rows = result?.changed ? result.rows : [];
      expect(rows.map((r) => [r.id, r.follower_count, r.following_count]).sort()).toEqual(
        [
          [a.id, 0, 1],
          [b.id, 1, 0],
        ].sort(),
      );
      await expect(outbox()).resolves.toEqual([
        { name: 'user.followed', payload: { followerId: a.id, followeeId: b.id } },
      ]);
    });

    it('treats a double follow as a no-op: no second edge, no count change, no event', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await follows.follow(a.id, b.id);
      await ds.query('TRUNCATE outbox');
      await expect(follows.follow(a.id, b.id)).resolves.toEqual({ changed: false });
      await expect(counts(b.id)).resolves.toEqual([1, 0]);
      await expect(counts(a.id)).resolves.toEqual([0, 1]);
      await expect(outbox()).resolves.toEqual([]);
    });

    it('treats unfollowing someone not followed as a no-op: counts never go below zero', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await ds.query('TRUNCATE outbox');
      await expect(follows.unfollow(a.id, b.id)).resolves.toEqual({ changed: false });
      await expect(counts(b.id)).resolves.toEqual([0, 0]);
      await expect(outbox()).resolves.toEqual([]);
    });

    it('answers undefined for a followee that does not exist (follow and unfollow)', async () => {
      const a = await newUser();
      await expect(follows.follow(a.id, '9223372036854775807')).resolves.toBeUndefined();
      await expect(follows.unfollow(a.id, '9223372036854775807')).resolves.toBeUndefined();
      await expect(counts(a.id)).resolves.toEqual([0, 0]);
    });

    it('unfollows: removes the edge, decrements both counters, one user.unfollowed event', async () => {
      const [a, b] = [await newUser(), await newUser()];
      await follows.follow(a.id, b.id);
      await ds.query('TRUNCATE outbox');
      await expect(follows.unfollow(a.id, b.id)).resolves.toMatchObject({ changed: true });
      await expect(counts(a.id)).resolves.toEqual([0, 0]);
      await expect(counts(b.id)).resolves.toEqual([0, 0]);
      await expect(outbox()).resolves.toEqual([
        { name: 'user.unfollowed', payload: { followerId: a.id, followeeId: b.id } },
      ]);
      const edges = await ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM follows WHERE follower_id = $1',
        [a.id],
      );
      expect(edges[0].n).toBe(0);
    });

    it('keeps counters equal to the edges after interleaved, concurrent follows and unfollows', async () => {
      const star = await newUser('star');
      const fans = await Promise.all(Array.from({ length: 8 }, () => newUser('fan')));
      // every fan follows, unfollows, follows, follows again, all fans at once
      await Promise.all(
        fans.map(async (fan) => {
          await Promise.all([follows.follow(fan.id, star.id), follows.follow(fan.id, star.id)]);
          await follows.unfollow(fan.id, star.id);
          await Promise.all([follows.follow(fan.id, star.id), follows.unfollow(star.id, fan.id)]);
        }),
      );
      // and half of them leave again, concurrently with a double unfollow each
      await Promise.all(
        fans
          .slice(0, 4)
          .flatMap((fan) => [follows.unfollow(fan.id, star.id), follows.unfollow(fan.id, star.id)]),
      );
      const [edges] = await ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM follows WHERE followee_id = $1',
        [star.id],
      );
      expect(edges.n).toBe(4);
      await expect(counts(star.id)).resolves.toEqual([4, 0]);
      const fanCounts = await Promise.all(fans.map((f) => counts(f.id)));
      expect(fanCounts).toEqual([...Array(4).fill([0, 0]), ...Array(4).fill([0, 1])]);
    });
  });

  describe('mostFollowed', () => {
    /** Every user's follower_count set directly (this is about ordering and batch bounds). */
    const setFollowers = async (of: (i: number, total: number) => number): Promise<string[]> => {
      const all = await ds.query<Array<{ id: string }>>(
        'SELECT id::text AS id FROM users ORDER BY users.id',
      );
      for (const [i, u] of all.entries()) {
        await ds.query('UPDATE users SET follower_count = $2 WHERE id = $1', [
          u.id,
          of(i, all.length),
        ]);
      }
      return all.map((u) => u.id);
    };
    const collect = async (limit: number, batchSize: number): Promise<string[][]> => {
      const batches: string[][] = [];
      for await (const rows of users.mostFollowed(limit, batchSize)) {
        batches.push(rows.map((r) => r.id));
      }
      return batches;
    };

    it('yields at most `limit` users, most followed first, across batches without repeats', async () => {
      // distinct counts: the newest user has the most followers
      const ids = await setFollowers((i) => i);
      const expected = [...ids].reverse();
      const batches = await collect(7, 3);
      expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
      expect(batches.flat()).toEqual(expected.slice(0, 7));
      // a limit past the end: every user once, in batches of 4, the last one short
      const everyone = await collect(ids.length + 50, 4);
      expect(everyone.flat()).toEqual(expected);
      expect(everyone.slice(0, -1).every((b) => b.length === 4)).toBe(true);
    });

    // `ORDER BY follower_count DESC, id` sorted by the output alias `id` (`id::text`), not the
    // bigint column: ties came back as text ("17" before "8"). The query names users.id now.
    it('breaks follower-count ties by numeric id', async () => {
      const ids = await setFollowers(() => 0);
      expect(ids.length).toBeGreaterThan(10);
      expect((await collect(ids.length, 500)).flat()).toEqual(ids);
    });

    it('yields nothing for a limit of zero', async () => {
      const batches: unknown[] = [];
      for await (const rows of users.mostFollowed(0)) {
        batches.push(rows);
      }
      expect(batches).toEqual([]);
    });
  });

  it('walPosition names the cluster and a WAL position', async () => {
    await expect(users.walPosition()).resolves.toEqual({
      main: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/) as unknown,
    });
  });
});
