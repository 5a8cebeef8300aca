import { BOARD_MEMBERS } from '@murmur/contracts';
import type { BoardPeriod } from '../leaderboards.service';
import type { Neighbourhood, RankedEntry } from '../ranked-entry';

/** A user board names users, a post board posts: the field says which an id is. */
export type EntryBody =
  { userId: string; score: number; rank: number } | { postId: string; score: number; rank: number };

export interface LeaderboardResponse {
  board: string;
  window: string;
  /** `2026-12-03`, `2026-W49` or `all` */
  period: string;
  entries: EntryBody[];
}

/** `around` and `me`: the member's own place, and the entries around it (itself included). */
export interface NeighbourhoodResponse extends LeaderboardResponse {
  member: EntryBody;
}

function toEntry(target: BoardPeriod, { id, score, rank }: RankedEntry): EntryBody {
  return BOARD_MEMBERS[target.board] === 'user'
    ? { userId: id, score, rank }
    : { postId: id, score, rank };
}

export function toLeaderboardResponse(
  target: BoardPeriod,
  entries: RankedEntry[],
): LeaderboardResponse {
  return {
    board: target.board,
    window: target.period.window,
    period: target.period.period,
    entries: entries.map((e) => toEntry(target, e)),
  };
}

export function toNeighbourhoodResponse(
  target: BoardPeriod,
  found: Neighbourhood,
): NeighbourhoodResponse {
  return {
    ...toLeaderboardResponse(target, found.entries),
    member: toEntry(target, found.member),
  };
}
