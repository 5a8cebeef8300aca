import type { RankedEntry } from '../leaderboard.repository';

export interface LeaderboardResponse {
  board: string;
  entries: Array<{ userId: string; score: number; rank: number }>;
}

export function toLeaderboardResponse(board: string, entries: RankedEntry[]): LeaderboardResponse {
  return { board, entries: entries.map(({ userId, score, rank }) => ({ userId, score, rank })) };
}
