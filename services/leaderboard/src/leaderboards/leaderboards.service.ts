import { Inject, Injectable } from '@nestjs/common';
import { BOARDS } from '@murmur/contracts';
import { type RankedEntry, LeaderboardRepository } from './leaderboard.repository';
import { LeaderboardError, LeaderboardErrorCode } from './leaderboards.errors';

const KNOWN_BOARDS = new Set<string>(Object.values(BOARDS));

@Injectable()
export class LeaderboardsService {
  constructor(@Inject(LeaderboardRepository) private readonly boards: LeaderboardRepository) {}

  async top(board: string, limit: number): Promise<RankedEntry[]> {
    if (!KNOWN_BOARDS.has(board)) {
      throw new LeaderboardError(
        LeaderboardErrorCode.UnknownBoard,
        `No leaderboard named "${board}".`,
      );
    }
    return this.boards.top(board, limit);
  }
}
