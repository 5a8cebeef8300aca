/** One place on a board: the member's id (a user or a post), its score and its rank (1 = top). */
export interface RankedEntry {
  id: string;
  score: number;
  rank: number;
}

/** A member's place and its neighbours (up to `span` above and below, itself included). */
export interface Neighbourhood {
  member: RankedEntry;
  entries: RankedEntry[];
}

/** Most neighbours on each side an `around` or `me` answer holds. */
export const MAX_SPAN = 25;
export const DEFAULT_SPAN = 5;
