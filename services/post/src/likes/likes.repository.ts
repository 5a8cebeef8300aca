import { Inject, Injectable } from '@nestjs/common';
import { EVENTS, type NewEvent } from '@murmur/contracts';
import { SHARD_ROUTER, type ShardRouter, type Sql } from '@murmur/database';
import { appendEvents } from '@murmur/queue';
import type { LikeChange } from './like-store';

/**
 * The `post.likes-changed` events of one transaction, into its shard's outbox: the net change of
 * each post's like rows, so the leaderboards count exactly what committed (a flush applied twice
 * changes no row the second time, and announces nothing).
 */
async function announce(
  sql: Sql,
  source: string,
  deltas: ReadonlyMap<string, number>,
  at: number,
): Promise<void> {
  const events: NewEvent[] = [];
  for (const [postId, delta] of deltas) {
    if (delta !== 0) {
      events.push({ name: EVENTS.likesChanged, payload: { postId, delta, at } });
    }
  }
  await appendEvents(sql, source, events);
}

export interface CommittedCount {
  count: number;
  /** the committing transaction's clock (µs), taken while it held the post's row lock */
  version: string;
}

@Injectable()
export class LikesRepository {
  constructor(@Inject(SHARD_ROUTER) private readonly shards: ShardRouter) {}

  /**
   * A post's count and whether one user likes it, from the primary: a flush may have committed
   * moments ago and a replica may not have it yet. Two index lookups however many likers the post
   * has (never the list of likers: that is unbounded). Undefined when the post does not exist.
   */
  async loadState(
    postId: bigint,
    userId: string,
  ): Promise<{ count: number; liked: boolean } | undefined> {
    const target = this.shards.forPost(postId);
    return this.shards.write(target, async (sql, schema) => {
      const rows = await sql.query<{ like_count: number; liked: boolean }>(
        `SELECT p.like_count,
                EXISTS (SELECT 1 FROM ${schema}.post_likes l
                         WHERE l.post_id = p.id AND l.user_id = $2) AS liked
           FROM ${schema}.posts p WHERE p.id = $1`,
        [postId.toString(), userId],
      );
      return rows.length === 0 ? undefined : { count: rows[0].like_count, liked: rows[0].liked };
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
      await announce(sql, target.cluster.name, new Map([[id, delta]]), Date.now());
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
   * recounted from its rows: applying the same batch twice leaves the same state. The net change
   * per post is announced in the same transaction, for the leaderboards.
   */
  async applyBatch(changes: Map<string, LikeChange>): Promise<void> {
    const ids = [...changes.keys()].map((id) => BigInt(id));
    const groups = [...this.shards.groupPostIds(ids).values()];
    await Promise.all(
      groups.map(({ target, ids: bySchema }) =>
        this.shards.write(target, async (sql) => {
          const deltas = new Map<string, number>();
          const add = (rows: Array<{ post_id: string }>, by: number) => {
            for (const r of rows) {
              deltas.set(r.post_id, (deltas.get(r.post_id) ?? 0) + by);
            }
          };
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
              const liked = await sql.query<{ post_id: string }>(
                `INSERT INTO ${schema}.post_likes (post_id, user_id)
                 SELECT c.post_id, c.user_id
                   FROM unnest($1::bigint[], $2::bigint[]) AS c (post_id, user_id)
                   JOIN ${schema}.posts p ON p.id = c.post_id
                 ON CONFLICT DO NOTHING RETURNING post_id::text AS post_id`,
                [likeP, likeU],
              );
              add(liked, 1);
            }
            if (unlikeP.length > 0) {
              const unliked = await sql.query<{ post_id: string }>(
                `DELETE FROM ${schema}.post_likes l
                  USING unnest($1::bigint[], $2::bigint[]) AS c (post_id, user_id)
                  WHERE l.post_id = c.post_id AND l.user_id = c.user_id
                  RETURNING l.post_id::text AS post_id`,
                [unlikeP, unlikeU],
              );
              add(unliked, -1);
            }
            await sql.query(
              `UPDATE ${schema}.posts p
                  SET like_count = (SELECT count(*) FROM ${schema}.post_likes l WHERE l.post_id = p.id)
                WHERE p.id = ANY($1::bigint[])`,
              [postIds.map(String)],
            );
          }
          await announce(sql, target.cluster.name, deltas, Date.now());
        }),
      ),
    );
  }
}
