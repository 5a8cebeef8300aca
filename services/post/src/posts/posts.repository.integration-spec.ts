import {
  composePostId,
  createDataSource,
  logicalShardForUser,
  logicalShardOfPostId,
  ReplicatedCluster,
  SHARD_MIGRATIONS,
  ShardRouter,
  shardSchema,
} from '@murmur/database';
import { superuser, testTopology, withPostgres } from '@murmur/testing';
import type { DataSource } from 'typeorm';
import { LikesRepository } from '../likes/likes.repository';
import { PostsRepository } from './posts.repository';

/**
 * The posts and likes repositories' SQL against real Postgres: a scratch database on each of the
 * test stack's physical shard primaries, migrated with the shard migrations and routed by a real
 * ShardRouter, so placement, counts and pages are exact and no stack process sees these rows.
 */
describe(`${PostsRepository.name} and ${LikesRepository.name} (real shard databases)`, () => {
  const t = testTopology();
  const primaries = Array.from({ length: t.physicalShards }, (_, i) =>
    t.postgres.find((n) => n.cluster === `shard-${i}` && n.role === 'primary'),
  );
  const database = `posts_repository_${process.pid}`;
  let sources: DataSource[];
  let router: ShardRouter;
  let posts: PostsRepository;
  let likes: LikesRepository;

  /** Authors whose posts live on each physical shard (the placement is logical % 2). */
  const authorOn = (physical: number, skip = 0): string => {
    let found = 0;
    for (let id = 1; ; id++) {
      if (logicalShardForUser(String(id)) % t.physicalShards === physical && found++ === skip) {
        return String(id);
      }
    }
  };
  /** Which physical shard's scratch database, and which schema, hold a row with this id. */
  const whereIs = async (id: string): Promise<Array<[number, string]>> => {
    const found: Array<[number, string]> = [];
    for (const [physical, ds] of sources.entries()) {
      for (let logical = 0; logical < 64; logical++) {
        const rows = await ds.query<unknown[]>(
          `SELECT 1 FROM ${shardSchema(logical)}.posts WHERE id = $1`,
          [id],
        );
        if (rows.length > 0) {
          found.push([physical, shardSchema(logical)]);
        }
      }
    }
    return found;
  };

  beforeAll(async () => {
    sources = [];
    for (const node of primaries) {
      await withPostgres(node?.name ?? '', 'postgres', (c) =>
        c.query(`CREATE DATABASE ${database}`),
      );
      const ds = createDataSource({
        url: `postgres://${superuser()}@127.0.0.1:${node?.port}/${database}`,
        name: 'posts-repository-spec',
        poolSize: 4,
        migrations: SHARD_MIGRATIONS,
      });
      await ds.initialize();
      await ds.runMigrations({ transaction: 'all' });
      sources.push(ds);
    }
    router = new ShardRouter(
      sources.map(
        (ds, i) =>
          new ReplicatedCluster(`shard-${i}`, ds, [], { replicasEnabled: false, pollMs: 100 }),
      ),
    );
    posts = new PostsRepository(router);
    likes = new LikesRepository(router);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sources.map((ds) => ds.destroy()));
    for (const node of primaries) {
      await withPostgres(node?.name ?? '', 'postgres', (c) =>
        c.query(`DROP DATABASE ${database} WITH (FORCE)`),
      );
    }
  });

  describe('insert', () => {
    it.each([0, 1])(
      'puts a post of an author on physical shard %i in the logical shard its id names, and nowhere else',
      async (physical) => {
        const author = authorOn(physical);
        const { row, created, events } = await posts.insert(author, 'placed');
        expect(created).toBe(true);
        expect(logicalShardOfPostId(BigInt(row.id))).toBe(logicalShardForUser(author));
        await expect(whereIs(row.id)).resolves.toEqual([
          [physical, shardSchema(logicalShardForUser(author))],
        ]);
        expect(router.forPost(BigInt(row.id)).physical).toBe(physical);
        expect(events).toEqual([
          expect.objectContaining({
            name: 'post.created',
            source: `shard-${physical}`,
            payload: { postId: row.id, authorId: author, createdAt: row.created_at.getTime() },
          }),
        ]);
        const outbox = await sources[physical].query<Array<{ id: string }>>(
          `SELECT id::text AS id FROM outbox WHERE payload->>'postId' = $1`,
          [row.id],
        );
        expect(outbox.map((o) => `evt-shard-${physical}-${o.id}`)).toEqual([events[0].id]);
      },
    );

    it('returns the first post, created false and no event, for an idempotency key reused by the author', async () => {
      const author = authorOn(0, 1);
      const first = await posts.insert(author, 'first', 'idem-1');
      const again = await posts.insert(author, 'second text', 'idem-1');
      expect(again).toEqual({ row: first.row, created: false, events: [] });
      await expect(posts.findByAuthor(author, undefined, 10)).resolves.toHaveLength(1);
    });

    it('lets two concurrent inserts with one key make one post (the second waits, then finds it)', async () => {
      const author = authorOn(1, 1);
      const [a, b] = await Promise.all([
        posts.insert(author, 'race', 'idem-race'),
        posts.insert(author, 'race', 'idem-race'),
      ]);
      expect([a.created, b.created].sort()).toEqual([false, true]);
      expect(a.row.id).toBe(b.row.id);
    });

    it('keeps keys per author and lets keyless posts repeat', async () => {
      const [x, y] = [authorOn(0, 2), authorOn(0, 3)];
      const a = await posts.insert(x, 'same', 'shared');
      const b = await posts.insert(y, 'same', 'shared');
      expect(b.created).toBe(true);
      expect(b.row.id).not.toBe(a.row.id);
      const c = await posts.insert(x, 'no key');
      const d = await posts.insert(x, 'no key');
      expect([c.created, d.created]).toEqual([true, true]);
    });
  });

  describe('findById / findMany', () => {
    it('finds a post by id on its shard, and nothing for an id of another logical shard', async () => {
      const { row } = await posts.insert(authorOn(1, 2), 'find me');
      await expect(posts.findById(BigInt(row.id))).resolves.toEqual(row);
      const other = composePostId(Date.now(), (logicalShardOfPostId(BigInt(row.id)) + 1) % 64, 1);
      await expect(posts.findById(other)).resolves.toBeUndefined();
    });

    it('finds nothing at the int8 edges (smallest id and the largest id of shard 63)', async () => {
      await expect(posts.findById(1n)).resolves.toBeUndefined();
      const max = (1n << 63n) - 1n; // shard bits of int8 max name logical shard 8191: clamp to 63
      const maxOf63 = (max & ~(((1n << 13n) - 1n) << 10n)) | (63n << 10n);
      expect(logicalShardOfPostId(maxOf63)).toBe(63);
      await expect(posts.findById(maxOf63)).resolves.toBeUndefined();
    });

    it('gets many posts across both physical shards in one call, ignoring unknown ids', async () => {
      const made = await Promise.all(
        [0, 1, 0, 1].map((p, i) => posts.insert(authorOn(p, 4 + i), `many ${i}`)),
      );
      const ids = made.map((m) => BigInt(m.row.id));
      const found = await posts.findMany([...ids, composePostId(Date.now(), 5, 1000)]);
      expect(found.map((r) => r.id).sort()).toEqual(made.map((m) => m.row.id).sort());
      await expect(posts.findMany([])).resolves.toEqual([]);
    });
  });

  describe('findByAuthor', () => {
    it('pages an author’s posts newest first: limit, `before` exclusive, past the end empty', async () => {
      const author = authorOn(1, 9);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await posts.insert(author, `page ${i}`)).row.id);
      }
      const newest = [...ids].reverse();
      const page = async (before: string | undefined, limit: number) =>
        (
          await posts.findByAuthor(author, before === undefined ? undefined : BigInt(before), limit)
        ).map((r) => r.id);
      await expect(page(undefined, 2)).resolves.toEqual(newest.slice(0, 2));
      await expect(page(newest[1], 2)).resolves.toEqual(newest.slice(2, 4));
      await expect(page(newest[3], 2)).resolves.toEqual(newest.slice(4));
      await expect(page(newest[4], 2)).resolves.toEqual([]);
      await expect(page(undefined, 100)).resolves.toEqual(newest);
      // the cursor at the int8 maximum is not an overflow: everything is older than it
      await expect(page('9223372036854775807', 100)).resolves.toEqual(newest);
      // another author on the same logical shard is not mixed in
      await expect(posts.findByAuthor(authorOn(1, 10), undefined, 100)).resolves.toEqual([]);
    });
  });

  describe(LikesRepository.name, () => {
    it('writes through: a like counts once however often it is repeated, an unlike once', async () => {
      const { row } = await posts.insert(authorOn(0, 20), 'likeable');
      const id = BigInt(row.id);
      await expect(likes.applyOne(id, '7', true)).resolves.toMatchObject({ count: 1 });
      await expect(likes.applyOne(id, '7', true)).resolves.toMatchObject({ count: 1 });
      await expect(likes.applyOne(id, '8', true)).resolves.toMatchObject({ count: 2 });
      await expect(likes.applyOne(id, '7', false)).resolves.toMatchObject({ count: 1 });
      await expect(likes.applyOne(id, '7', false)).resolves.toMatchObject({ count: 1 });
      await expect(likes.loadState(id, '8')).resolves.toEqual({ count: 1, liked: true });
      await expect(likes.loadState(id, '7')).resolves.toEqual({ count: 1, liked: false });
    });

    it('returns versions that grow with each committed like of a post', async () => {
      const { row } = await posts.insert(authorOn(1, 20), 'versions');
      const id = BigInt(row.id);
      const a = await likes.applyOne(id, '1', true);
      const b = await likes.applyOne(id, '2', true);
      expect(BigInt(b?.version ?? '0')).toBeGreaterThan(BigInt(a?.version ?? '0'));
    });

    it('keeps the count exact under concurrent likes of one post', async () => {
      const { row } = await posts.insert(authorOn(0, 21), 'popular');
      const id = BigInt(row.id);
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => likes.applyOne(id, String(100 + (i % 6)), true)),
      );
      await expect(likes.loadState(id, '100')).resolves.toEqual({ count: 6, liked: true });
      const [stored] = await posts.findMany([id]);
      expect(stored.like_count).toBe(6);
    });

    it('answers undefined for a post that does not exist (applyOne and loadState)', async () => {
      const ghost = composePostId(Date.now(), 2, 3);
      await expect(likes.applyOne(ghost, '1', true)).resolves.toBeUndefined();
      await expect(likes.loadState(ghost, '1')).resolves.toBeUndefined();
    });

    it('flushes a batch across both shards idempotently, dropping likes of posts that do not exist', async () => {
      const p0 = (await posts.insert(authorOn(0, 22), 'batch 0')).row;
      const p1 = (await posts.insert(authorOn(1, 22), 'batch 1')).row;
      await likes.applyOne(BigInt(p1.id), '50', true);
      const ghost = composePostId(Date.now(), 4, 9).toString();
      const batch = new Map([
        [
          p0.id,
          new Map([
            ['1', true],
            ['2', true],
          ]),
        ],
        [
          p1.id,
          new Map([
            ['50', false],
            ['3', true],
          ]),
        ],
        [ghost, new Map([['1', true]])],
      ]);
      await likes.applyBatch(batch);
      await likes.applyBatch(batch);
      await expect(likes.loadState(BigInt(p0.id), '2')).resolves.toEqual({ count: 2, liked: true });
      await expect(likes.loadState(BigInt(p1.id), '3')).resolves.toEqual({ count: 1, liked: true });
      await expect(likes.loadState(BigInt(p1.id), '50')).resolves.toEqual({
        count: 1,
        liked: false,
      });
      const rows = await posts.findMany([BigInt(p0.id), BigInt(p1.id)]);
      expect(Object.fromEntries(rows.map((r) => [r.id, r.like_count]))).toEqual({
        [p0.id]: 2,
        [p1.id]: 1,
      });
    });
  });
});
