// @ts-check
/**
 * Journey: read the top posters.
 *   k6 run -e PROFILE=load loadtests/k6/leaderboard.js
 */
import { readLeaderboard } from './lib/api.js';
import { scenarioFor, thresholdsFor } from './lib/config.js';
import { summaryWriter } from './lib/summary.js';
import { prepareUsers, sessionFor } from './lib/users.js';

/** @typedef {import('./lib/users.js').RunData} RunData */

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { leaderboard: scenarioFor('leaderboardJourney', 100) },
  thresholds: thresholdsFor(['login', 'leaderboard']),
};

export function setup() {
  return prepareUsers(5);
}

/** @param {RunData} data */
export function leaderboardJourney(data) {
  readLeaderboard(sessionFor(data), Math.random() < 0.8 ? 10 : 100);
}

export default leaderboardJourney;
export const handleSummary = summaryWriter('leaderboard');
