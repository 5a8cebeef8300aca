import { Inject, Injectable } from '@nestjs/common';
import type { ScoreJob } from '@murmur/contracts';
import { MAIN_CLUSTER, type ReplicatedCluster } from '@murmur/database';
import { type BoardScore, countScoreEvents, readScore, readTop } from '@murmur/rebuild';

/**
 * The boards' durable record in Postgres (main cluster): `leaderboard_events`, one row per
 * counted event, and `leaderboard_scores`, their sum per user. The Redis boards are a
 * projection of it, rebuilt from it when the data Redis is lost, and read from it meanwhile.
 */
@Injectable()
export class LeaderboardScoresRepository {
  constructor(@Inject(MAIN_CLUSTER) private readonly db: ReplicatedCluster) {}

  /**
   * Count the event once and return the user's committed score: increased by the event, or as
   * it was if the event had been counted already (a redelivered job, or a rebuild got there
   * first) — then the caller still projects it, in case the first delivery died before it could.
   */
  async count(job: ScoreJob): Promise<number> {
    return this.db.write(async (sql) => {
      const [changed] = await countScoreEvents(sql, job.board, [job]);
      return changed ? changed.score : readScore(sql, job.board, job.userId);
    });
  }

  /** The top of a board, from a replica: what readers get while the Redis board is rebuilt. */
  async top(board: string, limit: number): Promise<BoardScore[]> {
    return this.db.read((sql) => readTop(sql, board, limit));
  }
}
