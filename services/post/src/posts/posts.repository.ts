import { Inject, Injectable } from '@nestjs/common';
import { SHARD_ROUTER, type ShardRouter } from '@murmur/database';
import type { PostRow } from './post.entity';

const COLUMNS = `id::text AS id, author_id::text AS author_id, text, like_count, created_at`;

@Injectable()
export class PostsRepository {
  constructor(@Inject(SHARD_ROUTER) private readonly shards: ShardRouter) {}

  /** Insert on the author's shard; the id (with the logical shard in it) is made by that shard. */
  async insert(authorId: string, text: string): Promise<PostRow> {
    const target = this.shards.forAuthor(authorId);
    const rows = await this.shards.write(target, (sql, schema) =>
      sql.query<PostRow>(
        `INSERT INTO ${schema}.posts (author_id, text) VALUES ($1, $2) RETURNING ${COLUMNS}`,
        [authorId, text],
      ),
    );
    return rows[0];
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
        `SELECT ${COLUMNS} FROM ${schema}.posts
          WHERE author_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
          ORDER BY id DESC LIMIT $3`,
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
