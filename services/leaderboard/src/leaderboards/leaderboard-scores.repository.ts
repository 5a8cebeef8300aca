import { Inject, Injectable } from '@nestjs/common';
import { MAIN_CLUSTER, type ReplicatedCluster } from '@murmur/database';

/** The durable copy of scores in Postgres (main cluster), to rebuild Redis from. */
@Injectable()
export class LeaderboardScoresRepository {
  constructor(@Inject(MAIN_CLUSTER) private readonly db: ReplicatedCluster) {}

  /**
   * Store the absolute score. GREATEST keeps the higher value when two updates for one user land
   * out of order (scores on these boards only grow).
   */
  async upsert(board: string, userId: string, score: number): Promise<void> {
    await this.db.write((sql) =>
      sql.query(
        `INSERT INTO leaderboard_scores (board, user_id, score) VALUES ($1, $2, $3)
         ON CONFLICT (board, user_id) DO UPDATE
           SET score = GREATEST(leaderboard_scores.score, EXCLUDED.score), updated_at = now()`,
        [board, userId, score],
      ),
    );
  }
}
