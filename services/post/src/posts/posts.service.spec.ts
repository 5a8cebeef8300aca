import type { CacheConfig } from '@murmur/config';
import { CacheFactory } from '@murmur/cache';
import type { OutboxEvent } from '@murmur/contracts';
import { composePostId } from '@murmur/database';
import type { OutboxRelay } from '@murmur/queue';
import type { Redis } from 'ioredis';
import type { LikesService } from '../likes/likes.service';
import type { PostRow } from './post.entity';
import { PostError, PostErrorCode } from './posts.errors';
import type { PostsRepository } from './posts.repository';
import { MAX_IDS_PER_CALL, PostsService } from './posts.service';

/** Caches off: every read reaches the fake repository. */
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

/** This process's L1 only (no L2, no bus): what one post process caches. */
const L1_ONLY: CacheConfig = { ...NO_CACHE, CACHE_L1_ENABLED: true, CACHE_L1_MAX_ENTRIES: 1_000 };

const T0 = 1_800_000_000_000;

/** Posts in memory, ids made like the shards make them; idempotency keys unique per author. */
class FakePostsRepository implements Pick<
  PostsRepository,
  'insert' | 'findById' | 'findByAuthor' | 'findMany'
> {
  readonly rows: Array<PostRow & { key?: string }> = [];
  findByIdCalls = 0;
  findByAuthorCalls = 0;

  insert(
    authorId: string,
    text: string,
    idempotencyKey?: string,
  ): Promise<{ row: PostRow; created: boolean; events: OutboxEvent[] }> {
    const first = this.rows.find(
      (r) => idempotencyKey !== undefined && r.author_id === authorId && r.key === idempotencyKey,
    );
    if (first) {
      return Promise.resolve({ row: first, created: false, events: [] });
    }
    const id = composePostId(T0 + this.rows.length, 3, this.rows.length).toString();
    const row = {
      id,
      author_id: authorId,
      text,
      like_count: 0,
      created_at: new Date(T0),
      key: idempotencyKey,
    };
    this.rows.push(row);
    const event = {
      id: `evt-shard-0-${this.rows.length}`,
      source: 'shard-0',
      seq: String(this.rows.length),
      name: 'post.created',
      payload: { postId: id, authorId, createdAt: T0 },
    } as OutboxEvent;
    return Promise.resolve({ row, created: true, events: [event] });
  }

  findById(id: bigint): Promise<PostRow | undefined> {
    this.findByIdCalls++;
    return Promise.resolve(this.rows.find((r) => r.id === id.toString()));
  }

  findByAuthor(authorId: string, before: bigint | undefined, limit: number): Promise<PostRow[]> {
    this.findByAuthorCalls++;
    return Promise.resolve(
      this.rows
        .filter((r) => r.author_id === authorId && (before === undefined || BigInt(r.id) < before))
        .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
        .slice(0, limit),
    );
  }

  findMany(ids: bigint[]): Promise<PostRow[]> {
    const wanted = new Set(ids.map(String));
    return Promise.resolve(this.rows.filter((r) => wanted.has(r.id)));
  }
}

class RecordingOutbox implements Pick<OutboxRelay, 'publish'> {
  readonly published: OutboxEvent[] = [];

  publish(events: OutboxEvent[]): Promise<void> {
    this.published.push(...events);
    return Promise.resolve();
  }
}

/** The live counts Redis would hold (write-behind) for some posts. */
class FakeLikes implements Pick<LikesService, 'liveCounts'> {
  readonly live = new Map<string, number>();

  liveCounts(postIds: string[]): Promise<Map<string, number>> {
    return Promise.resolve(
      new Map(postIds.filter((id) => this.live.has(id)).map((id) => [id, this.live.get(id) ?? 0])),
    );
  }
}

const setup = (cache: CacheConfig = NO_CACHE) => {
  const repository = new FakePostsRepository();
  const outbox = new RecordingOutbox();
  const likes = new FakeLikes();
  const sut = new PostsService(
    repository as unknown as PostsRepository,
    new CacheFactory(undefined as unknown as Redis, cache),
    outbox,
    likes as unknown as LikesService,
  );
  return { repository, outbox, likes, sut };
};

describe(PostsService.name, () => {
  describe('create', () => {
    it('stores the post and publishes its post.created event', async () => {
      const { outbox, sut } = setup();
      const { post, replayed } = await sut.create('5', 'hello');
      expect(replayed).toBe(false);
      expect(post).toMatchObject({ authorId: '5', text: 'hello', likeCount: 0 });
      expect(outbox.published).toEqual([
        expect.objectContaining({
          name: 'post.created',
          payload: expect.objectContaining({ postId: post.id }) as unknown,
        }),
      ]);
    });

    it('replays the first post for a reused Idempotency-Key, publishing nothing again', async () => {
      const { outbox, repository, sut } = setup();
      const first = await sut.create('5', 'once', 'key-1');
      await expect(sut.create('5', 'once', 'key-1')).resolves.toEqual({
        post: first.post,
        replayed: true,
      });
      expect(repository.rows).toHaveLength(1);
      expect(outbox.published).toHaveLength(1);
    });

    it('refuses a reused Idempotency-Key with a different text (idempotency_key_reused, 422)', async () => {
      const { sut } = setup();
      await sut.create('5', 'first text', 'key-2');
      const attempt = sut.create('5', 'other text', 'key-2');
      await expect(attempt).rejects.toHaveProperty('code', PostErrorCode.IdempotencyKeyReused);
      await expect(attempt).rejects.toHaveProperty('kind', 'unprocessable');
    });

    it('scopes Idempotency-Keys to their author: another author’s same key makes a new post', async () => {
      const { sut } = setup();
      const a = await sut.create('5', 'same', 'shared-key');
      const b = await sut.create('6', 'same', 'shared-key');
      expect(b.replayed).toBe(false);
      expect(b.post.id).not.toBe(a.post.id);
    });
  });

  describe('get', () => {
    it('returns a stored post with the live like count laid over the row’s', async () => {
      const { likes, sut } = setup();
      const { post } = await sut.create('5', 'liked');
      likes.live.set(post.id, 12);
      await expect(sut.get(post.id)).resolves.toEqual({ ...post, likeCount: 12 });
    });

    it('answers post_not_found (not found) for a well-formed id that has no post', async () => {
      const { sut } = setup();
      const id = composePostId(T0, 3, 999).toString();
      const attempt = sut.get(id);
      await expect(attempt).rejects.toEqual(
        new PostError(PostErrorCode.NotFound, `No post with id ${id}.`),
      );
      await expect(attempt).rejects.toHaveProperty('kind', 'not_found');
    });

    it('answers post_not_found without a query for an id whose shard bits name no shard', async () => {
      const { repository, sut } = setup();
      const id = composePostId(T0, 64, 0).toString();
      await expect(sut.get(id)).rejects.toHaveProperty('code', PostErrorCode.NotFound);
      expect(repository.findByIdCalls).toBe(0);
    });

    it.each(['abc', '0', '-1', '9223372036854775808'])(
      'answers invalid_post_id for "%s"',
      async (raw) => {
        const { repository, sut } = setup();
        await expect(sut.get(raw)).rejects.toHaveProperty('code', PostErrorCode.InvalidId);
        expect(repository.findByIdCalls).toBe(0);
      },
    );
  });

  describe('byAuthor', () => {
    it('pages newest first with a cursor, and null on the last page', async () => {
      const { sut } = setup();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await sut.create('9', `p${i}`)).post.id);
      }
      const first = await sut.byAuthor('9', undefined, 2);
      expect(first.items.map((p) => p.id)).toEqual([ids[4], ids[3]]);
      expect(first.nextCursor).toBe(ids[3]);
      const last = await sut.byAuthor('9', ids[1], 2);
      expect(last.items.map((p) => p.id)).toEqual([ids[0]]);
      expect(last.nextCursor).toBeNull();
    });

    it('caches one first page per author for every limit, and no page a caller can multiply', async () => {
      const { repository, sut } = setup(L1_ONLY);
      // straight into the source: a create's tag invalidation would keep the next load uncached
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await repository.insert('9', `p${i}`)).row.id);
      }
      const pages = await Promise.all([1, 2, 3, 50].map((n) => sut.byAuthor('9', undefined, n)));
      expect(pages.map((p) => p.items.length)).toEqual([1, 2, 3, 5]);
      expect(pages.map((p) => p.nextCursor)).toEqual([ids[4], ids[3], ids[2], null]);
      expect(repository.findByAuthorCalls).toBe(1);
      // later pages (any id is a cursor) and authors without posts (any id is an author): the
      // source each time, nothing kept
      await sut.byAuthor('9', ids[2], 2);
      await sut.byAuthor('9', ids[2], 2);
      await sut.byAuthor('404', undefined, 20);
      await sut.byAuthor('404', undefined, 20);
      expect(repository.findByAuthorCalls).toBe(5);
    });

    it('reloads the cached first page for its author’s no-cache only; anyone else’s is a cached read', async () => {
      const { repository, sut } = setup(L1_ONLY);
      await repository.insert('9', 'old');
      await sut.byAuthor('9', undefined, 20);
      repository.rows[0].text = 'changed at the source';
      for (const viewerId of [undefined, '10']) {
        const page = await sut.byAuthor('9', undefined, 20, { fresh: true, viewerId });
        expect(page.items[0].text).toBe('old');
      }
      expect(repository.findByAuthorCalls).toBe(1);
      const own = await sut.byAuthor('9', undefined, 20, { fresh: true, viewerId: '9' });
      expect(own.items[0].text).toBe('changed at the source');
      expect(repository.findByAuthorCalls).toBe(2);
    });

    it('answers invalid_post_id for a cursor that is not an id', async () => {
      const { sut } = setup();
      await expect(sut.byAuthor('9', 'nope', 2)).rejects.toHaveProperty(
        'code',
        PostErrorCode.InvalidId,
      );
    });
  });

  describe('getMany', () => {
    it('returns the posts found in the order asked, skipping ids that are not post ids', async () => {
      const { sut } = setup();
      const a = (await sut.create('1', 'a')).post;
      const b = (await sut.create('1', 'b')).post;
      const missing = composePostId(T0, 3, 777).toString();
      await expect(sut.getMany([b.id, 'junk', missing, a.id])).resolves.toEqual([b, a]);
    });

    it(`refuses more than ${MAX_IDS_PER_CALL} ids (too_many_ids)`, async () => {
      const { sut } = setup();
      const ids = Array.from({ length: MAX_IDS_PER_CALL + 1 }, (_, i) => String(i + 1));
      await expect(sut.getMany(ids)).rejects.toHaveProperty('code', PostErrorCode.TooManyIds);
    });
  });
});
