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

  /** Count the event once in Redis, then persist the resulting absolute score. */
  async apply(job: ScoreJob): Promise<number> {
    const score = await this.boards.addOnce(job.board, job.userId, job.delta, job.eventId);
    await this.scores.upsert(job.board, job.userId, score);
    return score;
  }
}
