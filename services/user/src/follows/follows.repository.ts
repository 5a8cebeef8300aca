import { Inject, Injectable } from '@nestjs/common';
import { EVENTS, type OutboxEvent } from '@murmur/contracts';
import { MAIN_CLUSTER, type ReplicatedCluster } from '@murmur/database';
import { appendEvents } from '@murmur/queue';
import { USER_COLUMNS } from '../users/users.repository';
import type { UserRow } from '../users/user.entity';

/** undefined: no such followee; changed false: the edge was already so; rows: both users after the change */
export type FollowResult =
  undefined | { changed: false } | { changed: true; rows: UserRow[]; events: OutboxEvent[] };

@Injectable()
export class FollowsRepository {
  constructor(@Inject(MAIN_CLUSTER) private readonly db: ReplicatedCluster) {}

  /**
   * Add the edge, both counters and the `user.followed` event in one transaction; following
   * twice is a no-op (no event). The event is appended after the edge's row lock is taken, so
   * for one pair the outbox ids (the feed's graph versions) follow the commit order.
   */
  async follow(followerId: string, followeeId: string): Promise<FollowResult> {
    return this.db.write(async (sql) => {
      const exists = await sql.query(`SELECT 1 FROM users WHERE id = $1`, [followeeId]);
      if (exists.length === 0) {
        return undefined;
      }
      const inserted = await sql.query(
        `INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
        [followerId, followeeId],
      );
      if (inserted.length === 0) {
        return { changed: false };
      }
      const rows = await sql.query<UserRow>(
        `UPDATE users SET
           follower_count = follower_count + CASE WHEN id = $2 THEN 1 ELSE 0 END,
           following_count = following_count + CASE WHEN id = $1 THEN 1 ELSE 0 END,
           updated_at = greatest(now(), updated_at + interval '1 millisecond')
         WHERE id IN ($1, $2)
         RETURNING ${USER_COLUMNS}`,
        [followerId, followeeId],
      );
      const events = await appendEvents(sql, this.db.name, [
        { name: EVENTS.followed, payload: { followerId, followeeId } },
      ]);
      return { changed: true, rows, events };
    });
  }

  /** The mirror of follow: edge, counters and `user.unfollowed` together, or nothing. */
  async unfollow(followerId: string, followeeId: string): Promise<FollowResult> {
    return this.db.write(async (sql) => {
      const exists = await sql.query(`SELECT 1 FROM users WHERE id = $1`, [followeeId]);
      if (exists.length === 0) {
        return undefined;
      }
      const deleted = await sql.query(
        `DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2 RETURNING 1`,
        [followerId, followeeId],
      );
      if (deleted.length === 0) {
        return { changed: false };
      }
      const rows = await sql.query<UserRow>(
        `UPDATE users SET
           follower_count = follower_count - CASE WHEN id = $2 THEN 1 ELSE 0 END,
           following_count = following_count - CASE WHEN id = $1 THEN 1 ELSE 0 END,
           updated_at = greatest(now(), updated_at + interval '1 millisecond')
         WHERE id IN ($1, $2)
         RETURNING ${USER_COLUMNS}`,
        [followerId, followeeId],
      );
      const events = await appendEvents(sql, this.db.name, [
        { name: EVENTS.unfollowed, payload: { followerId, followeeId } },
      ]);
      return { changed: true, rows, events };
    });
  }
}
