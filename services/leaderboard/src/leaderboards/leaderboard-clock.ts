/** The time a board's window is chosen by: injected, so window edges are tested without sleeps. */
export interface LeaderboardClock {
  now(): number;
}

export const LEADERBOARD_CLOCK = Symbol('LEADERBOARD_CLOCK');

export const systemLeaderboardClock: LeaderboardClock = { now: () => Date.now() };
