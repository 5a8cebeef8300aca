import { Inject, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { type Cache, CacheFactory } from '@murmur/cache';
import { isKnownShardId, parseId } from '@murmur/database';
import { OUTBOX_RELAY, type OutboxRelay } from '@murmur/queue';
import { LikesService } from '../likes/likes.service';
import { AUTHOR_PAGE_MAX } from './dto/author-posts.query';
import { type Post, postSchema, toPost } from './post.entity';
import { PostError, PostErrorCode } from './posts.errors';
import { PostsRepository } from './posts.repository';

export const MAX_IDS_PER_CALL = 200;

const authorTag = (authorId: string): string => `author:${authorId}`;
/** The one cached page of an author: their newest posts, as many as the largest page + 1. */
const authorPageKey = (authorId: string): string => `${authorId}:top`;
const FIRST_PAGE_ROWS = AUTHOR_PAGE_MAX + 1;

@Injectable()
export class PostsService {
  private readonly logger = new Logger(PostsService.name);
  private readonly cache: Cache<Post>;
  /**
   * The first page of each author's posts, tagged `author:<id>`: a new post invalidates it (in L2
   * and every process's L1) with one tag invalidation, which also keeps a load that may predate
   * the post from caching the old page (the tag's grace). "Not found" (no posts) is not cached.
   */
  private readonly authorPages: Cache<Post[]>;

  constructor(
    @Inject(PostsRepository) private readonly posts: PostsRepository,
    @Inject(CacheFactory) caches: CacheFactory,
    @Inject(OUTBOX_RELAY) private readonly outbox: Pick<OutboxRelay, 'publish'>,
    @Inject(LikesService) private readonly likes: LikesService,
  ) {
    // Post text never changes, so entries live long; like counts come from Redis on each read
    // (see withLiveCounts), the cached row's count is only the fallback.
    this.cache = caches.create<Post>({
      name: 'post',
      ttlSeconds: 600,
      negativeTtlSeconds: 5,
      versionOf: () => 0,
      schema: postSchema,
    });
    this.authorPages = caches.create<Post[]>({
      name: 'author-posts',
      ttlSeconds: 60,
      negativeTtlSeconds: 0,
      versionOf: () => 0,
      schema: z.array(postSchema).max(FIRST_PAGE_ROWS),
    });
  }

  /**
   * Store the post on its author's shard with its `post.created` event (one transaction), then
   * publish the event (the fan-out and the `posters` point), waiting for that at most
   * OUTBOX_FLUSH_WAIT_MS: once the transaction commits the consequences are owed and will be
   * delivered (at least once; the consumers are idempotent), even if this process dies now or
   * the queue is down, so the answer never turns into an error after the commit.
   *
   * With an `Idempotency-Key` the author used before, the first post is the answer (`replayed`);
   * the same key with a different text is refused (422): it is a client bug, not a retry.
   */
  async create(
    authorId: string,
    text: string,
    idempotencyKey?: string,
  ): Promise<{ post: Post; replayed: boolean }> {
    const { row, created, events } = await this.posts.insert(authorId, text, idempotencyKey);
    const post = toPost(row);
    if (!created) {
      if (post.text !== text) {
        throw new PostError(
          PostErrorCode.IdempotencyKeyReused,
          'This Idempotency-Key was already used for a different post: use a new key for a new post.',
        );
      }
      return { post: (await this.withLiveCounts([post]))[0], replayed: true };
    }
    await Promise.all([
      // Write-through on create: reads by id go to a replica, and a reader racing replication (a
      // follower's feed, the author's own page) would otherwise cache "not found" for the post.
      this.cache.set(post.id, post),
      // Event invalidation by tag: every cached page of this author's posts is now out of date.
      this.authorPages.invalidateTag(authorTag(authorId)),
    ]);
    // After the cache write, so a follower who sees the id in a timeline finds the post cached.
    await this.outbox.publish(events);
    return { post, replayed: false };
  }

  async get(rawId: string): Promise<Post> {
    const id = parseId(rawId);
    if (id === undefined) {
      throw new PostError(PostErrorCode.InvalidId, `"${rawId.slice(0, 40)}" is not a post id.`);
    }
    if (!isKnownShardId(id)) {
      throw new PostError(PostErrorCode.NotFound, `No post with id ${id}.`);
    }
    const post = await this.cache.getOrSet(id.toString(), async () => {
      const row = await this.posts.findById(id);
      return row ? toPost(row) : null;
    });
    if (!post) {
      throw new PostError(PostErrorCode.NotFound, `No post with id ${id}.`);
    }
    return (await this.withLiveCounts([post]))[0];
  }

  /**
   * One page of an author's posts, newest first. `nextCursor` is the id to pass as `before` for
   * the next page, null on the last page.
   *
   * Only what a client cannot multiply is cached: one entry per author, the first page at its
   * largest (any `limit` is a slice of it), tagged `author:<id>`, so a tag set never holds more
   * than that one key. Later pages are read from a replica each time (any id is a valid cursor, so
   * keys made of cursors would be minted by the caller), and so are authors without posts: any
   * id is a valid author id, and caching their empty pages would let random ids fill the cache.
   * `fresh` (the client's `Cache-Control: no-cache`) reloads the cached page only for the author
   * reading their own page: from anyone else it would buy a source read, an L2 write and a
   * broadcast per request, past the coalescing, so it is served from the cache like any read.
   */
  async byAuthor(
    authorId: string,
    before: string | undefined,
    limit: number,
    read: { fresh?: boolean; viewerId?: string } = {},
  ): Promise<{ items: Post[]; nextCursor: string | null }> {
    const beforeId = before === undefined ? undefined : parseId(before);
    if (before !== undefined && beforeId === undefined) {
      throw new PostError(PostErrorCode.InvalidId, `"${before.slice(0, 40)}" is not a post id.`);
    }
    // One more than asked tells whether a next page exists.
    const rows =
      beforeId === undefined
        ? await this.firstPage(authorId, read.fresh === true && read.viewerId === authorId)
        : (await this.posts.findByAuthor(authorId, beforeId, limit + 1)).map((r) => toPost(r));
    const items = await this.withLiveCounts(rows.slice(0, limit));
    return { items, nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  /** The author's newest FIRST_PAGE_ROWS posts, through the cache; empty pages are not kept. */
  private async firstPage(authorId: string, refresh: boolean): Promise<Post[]> {
    const page = await this.authorPages.getOrSet(
      authorPageKey(authorId),
      async () => {
        const rows = await this.posts.findByAuthor(authorId, undefined, FIRST_PAGE_ROWS);
        return rows.length === 0 ? null : rows.map((r) => toPost(r));
      },
      { tags: [authorTag(authorId)], refresh },
    );
    return page ?? [];
  }

  /** Posts by id in the order asked, unknown ids left out (hydration of a timeline page). */
  async getMany(rawIds: string[]): Promise<Post[]> {
    if (rawIds.length > MAX_IDS_PER_CALL) {
      throw new PostError(PostErrorCode.TooManyIds, `At most ${MAX_IDS_PER_CALL} ids per call.`);
    }
    const ids = rawIds
      .map(parseId)
      .filter((id): id is bigint => id !== undefined && isKnownShardId(id));
    if (ids.length === 0) {
      return [];
    }
    // Through the cache: L1, then one MGET on L2, then one multi-shard query for the rest, so a
    // feed page costs at most one L2 round trip and one source call.
    const byId = await this.cache.getMany(
      ids.map((id) => id.toString()),
      async (missing) => {
        const rows = await this.posts.findMany(missing.map((id) => BigInt(id)));
        return new Map(rows.map((r) => [r.id, toPost(r)]));
      },
    );
    return this.withLiveCounts(
      ids.map((id) => byId.get(id.toString())).filter((p): p is Post => !!p),
    );
  }

  /**
   * A cached post's `likeCount` is its row's, which write-behind updates only at the next flush:
   * lay the counts Redis holds over it (one MGET for a whole page).
   */
  private async withLiveCounts(posts: Post[]): Promise<Post[]> {
    const counts = await this.likes.liveCounts(posts.map((p) => p.id));
    return posts.map((p) => {
      const live = counts.get(p.id);
      return live === undefined ? p : { ...p, likeCount: live };
    });
  }
}
