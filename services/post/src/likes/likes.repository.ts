import { Inject, Injectable } from '@nestjs/common';
import { SHARD_ROUTER, type ShardRouter } from '@murmur/database';
import type { LikeChange } from './like-store';

export interface CommittedCount {
  count: number;
  /** the committing transaction's clock (µs), taken while it held the post's row lock */
  version: string;
}

@Injectable()
export class LikesRepository {
  constructor(@Inject(SHARD_ROUTER) private readonly shards: ShardRouter) {}

  /**
   * A post's count and likers, from the primary: a flush may have committed moments ago and a
   * replica may not have it yet. Undefined when the post does not exist.
   */
  async loadState(postId: bigint): Promise<{ count: number; userIds: string[] } | undefined> {
    const target = this.shards.forPost(postId);
    return this.shards.write(target, async (sql, schema) => {
      const posts = await sql.query<{ like_count: number }>(
        `SELECT like_count FROM ${schema}.posts WHERE id = $1`,
        [postId.toString()],
      );
      if (posts.length === 0) {
        return undefined;
      }
      const likers = await sql.query<{ user_id: string }>(
        `SELECT user_id::text AS user_id FROM ${schema}.post_likes WHERE post_id = $1`,
        [postId.toString()],
      );
      return { count: likers.length, userIds: likers.map((r) => r.user_id) };
    });
  }

  /**
   * Write-through: one like or unlike in its own transaction, the count updated under the post's
   * row lock. Undefined when the post does not exist.
   */
  async applyOne(
    postId: bigint,
    userId: string,
    like: boolean,
  ): Promise<CommittedCount | undefined> {
    const target = this.shards.forPost(postId);
    return this.shards.write(target, async (sql, schema) => {
      const id = postId.toString();
      // Lock the post row first: concurrent likes of one post queue here, and the clock read
      // below is then later than any earlier committer's.
      const locked = await sql.query(`SELECT 1 FROM ${schema}.posts WHERE id = $1 FOR UPDATE`, [
        id,
      ]);
      if (locked.length === 0) {
        return undefined;
      }
      const changed = like
        ? await sql.query(
            `INSERT INTO ${schema}.post_likes (post_id, user_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING RETURNING 1`,
            [id, userId],
          )
        : await sql.query(
            `DELETE FROM ${schema}.post_likes WHERE post_id = $1 AND user_id = $2 RETURNING 1`,
            [id, userId],
          );
      const delta = changed.length === 0 ? 0 : like ? 1 : -1;
      const rows = await sql.query<{ like_count: number; version: string }>(
        `UPDATE ${schema}.posts SET like_count = like_count + $2 WHERE id = $1
         RETURNING like_count,
                   (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text AS version`,
        [id, delta],
      );
      return { count: rows[0].like_count, version: rows[0].version };
    });
  }

  /**
   * Write-behind flush: many posts' changes in one transaction per physical shard. Likes are
   * inserted (ignoring ones already there), unlikes deleted, and each touched post's count is
   * recounted from its rows: applying the same batch twice leaves the same state.
   */
  async applyBatch(changes: Map<string, LikeChange>): Promise<void> {
    const ids = [...changes.keys()].map((id) => BigInt(id));
    const groups = [...this.shards.groupPostIds(ids).values()];
    await Promise.all(
      groups.map(({ target, ids: bySchema }) =>
        this.shards.write(target, async (sql) => {
          for (const [schema, postIds] of bySchema) {
            const likeP: string[] = [];
            const likeU: string[] = [];
            const unlikeP: string[] = [];
            const unlikeU: string[] = [];
            for (const postId of postIds) {
              for (const [userId, liked] of changes.get(postId.toString()) ?? []) {
                (liked ? likeP : unlikeP).push(postId.toString());
                (liked ? likeU : unlikeU).push(userId);
              }
            }
            if (likeP.length > 0) {
              // Joined to posts so a like of a post that is gone is dropped, not a poison batch.
              await sql.query(
                `INSERT INTO ${schema}.post_likes (post_id, user_id)
                 SELECT c.post_id, c.user_id
                   FROM unnest($1::bigint[], $2::bigint[]) AS c (post_id, user_id)
                   JOIN ${schema}.posts p ON p.id = c.post_id
                 ON CONFLICT DO NOTHING`,
                [likeP, likeU],
              );
            }
            if (unlikeP.length > 0) {
              await sql.query(
                `DELETE FROM ${schema}.post_likes l
                  USING unnest($1::bigint[], $2::bigint[]) AS c (post_id, user_id)
                  WHERE l.post_id = c.post_id AND l.user_id = c.user_id`,
                [unlikeP, unlikeU],
              );
            }
            await sql.query(
              `UPDATE ${schema}.posts p
                  SET like_count = (SELECT count(*) FROM ${schema}.post_likes l WHERE l.post_id = p.id)
                WHERE p.id = ANY($1::bigint[])`,
              [postIds.map(String)],
            );
          }
        }),
      ),
    );
  }
}
