import { Inject, Injectable } from '@nestjs/common';
import { EVENTS, type OutboxEvent } from '@murmur/contracts';
import { SHARD_ROUTER, type ShardRouter } from '@murmur/database';
import { appendEvents } from '@murmur/queue';
import type { PostRow } from './post.entity';

const COLUMNS = `id::text AS id, author_id::text AS author_id, text, like_count, created_at`;

@Injectable()
export class PostsRepository {
  constructor(@Inject(SHARD_ROUTER) private readonly shards: ShardRouter) {}

  /**
   * Insert on the author's shard (the id, with the logical shard in it, is made by that shard),
   * and its `post.created` event into that shard's outbox in the same transaction: the post and
   * the promise of its fan-out and score commit together or not at all. With an idempotency key
   * already used by this author, nothing is inserted and the first post comes back (`created`
   * false); a concurrent request with the same key waits on the unique index, then finds it.
   */
  async insert(
    authorId: string,
    text: string,
    idempotencyKey?: string,
  ): Promise<{ row: PostRow; created: boolean; events: OutboxEvent[] }> {
    const target = this.shards.forAuthor(authorId);
    return this.shards.write(target, async (sql, schema) => {
      const [row] = await sql.query<PostRow>(
        `INSERT INTO ${schema}.posts (author_id, text, idempotency_key) VALUES ($1, $2, $3)
         ON CONFLICT (author_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING ${COLUMNS}`,
        [authorId, text, idempotencyKey ?? null],
      );
      if (!row) {
        const [first] = await sql.query<PostRow>(
          `SELECT ${COLUMNS} FROM ${schema}.posts WHERE author_id = $1 AND idempotency_key = $2`,
          [authorId, idempotencyKey],
        );
        return { row: first, created: false, events: [] };
      }
      const events = await appendEvents(sql, target.cluster.name, [
        {
          name: EVENTS.postCreated,
          payload: { postId: row.id, authorId, createdAt: row.created_at.getTime() },
        },
      ]);
      return { row, created: true, events };
    });
  }

  async findById(id: bigint): Promise<PostRow | undefined> {
    const target = this.shards.forPost(id);
    const rows = await this.shards.read(
      target,
      (sql, schema) =>
        sql.query<PostRow>(`SELECT ${COLUMNS} FROM ${schema}.posts WHERE id = $1`, [id.toString()]),
      { missing: (r) => r.length === 0 },
    );
    return rows[0];
  }

  /** An author's posts, newest first, older than `before` when given: one shard, one index. */
  async findByAuthor(
    authorId: string,
    before: bigint | undefined,
    limit: number,
  ): Promise<PostRow[]> {
    const target = this.shards.forAuthor(authorId);
    return this.shards.read(target, (sql, schema) =>
      sql.query<PostRow>(
        // ordered by the column, not by its ::text alias
        `SELECT ${COLUMNS} FROM ${schema}.posts p
          WHERE p.author_id = $1 AND ($2::bigint IS NULL OR p.id < $2::bigint)
          ORDER BY p.id DESC LIMIT $3`,
        [authorId, before === undefined ? null : before.toString(), limit],
      ),
    );
  }

  /** Many posts in one query per physical shard touched, the shards in parallel. */
  async findMany(ids: bigint[]): Promise<PostRow[]> {
    const groups = [...this.shards.groupPostIds(ids).values()];
    const results = await Promise.all(
      groups.map(({ target, ids: bySchema }) =>
        this.shards.read(target, (sql) => {
          const parts: string[] = [];
          const params: string[][] = [];
          for (const [schema, schemaIds] of bySchema) {
            params.push(schemaIds.map(String));
            parts.push(
              `SELECT ${COLUMNS} FROM ${schema}.posts WHERE id = ANY($${params.length}::bigint[])`,
            );
          }
          return sql.query<PostRow>(parts.join(' UNION ALL '), params);
        }),
      ),
    );
    return results.flat();
  }
}
