// @ts-check
/**
 * Journey: look at a profile, follow it, sometimes unfollow again (so the graph does not only grow).
 *   k6 run -e PROFILE=load loadtests/k6/follow.js
 */
import { follow, getProfile, unfollow } from './lib/api.js';
import { scenarioFor, thresholdsFor } from './lib/config.js';
import { summaryWriter } from './lib/summary.js';
import { prepareUsers, sessionFor, someUserId } from './lib/users.js';

/** @typedef {import('./lib/users.js').RunData} RunData */

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { follow: scenarioFor('followJourney', 20) },
  thresholds: thresholdsFor(['login', 'profile', 'follow', 'unfollow']),
};

export function setup() {
  return prepareUsers();
}

/** @param {RunData} data */
export function followJourney(data) {
  const s = sessionFor(data);
  const target = someUserId(data, s.userId);
  getProfile(s, target);
  follow(s, target);
  if (Math.random() < 0.3) {
    unfollow(s, target);
  }
}

export default followJourney;
export const handleSummary = summaryWriter('follow');
