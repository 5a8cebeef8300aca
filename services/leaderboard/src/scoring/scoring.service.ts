import { Inject, Injectable } from '@nestjs/common';
import type { ScoreJob } from '@murmur/contracts';
import { LeaderboardScoresRepository } from '../leaderboards/leaderboard-scores.repository';
import { LeaderboardRepository } from '../leaderboards/leaderboard.repository';

@Injectable()
export class ScoringService {
  constructor(
    @Inject(LeaderboardRepository) private readonly boards: LeaderboardRepository,
    @Inject(LeaderboardScoresRepository) private readonly scores: LeaderboardScoresRepository,
  ) {}

  /**
   * Count the event once in Postgres (the durable record), then show the committed score on the
   * Redis board. A crash between the two is healed by the retry, which finds the event counted
   * and projects the score it reads back.
   */
  async apply(job: ScoreJob): Promise<number> {
    const score = await this.scores.count(job);
    await this.boards.project(job.board, job.userId, score);
    return score;
  }
}
