// @ts-check
/**
 * Journey: read profiles (the multi-layer cache's main read path), sometimes edit one's own,
 * which must invalidate every replica's L1.
 *   k6 run -e PROFILE=load loadtests/k6/profile.js
 */
import { getProfile, updateProfile } from './lib/api.js';
import { scenarioFor, thresholdsFor } from './lib/config.js';
import { summaryWriter } from './lib/summary.js';
import { prepareUsers, sessionFor, someUserId } from './lib/users.js';

/** @typedef {import('./lib/users.js').RunData} RunData */

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { profile: scenarioFor('profileJourney', 200) },
  thresholds: thresholdsFor(['login', 'profile', 'profile_update']),
};

export function setup() {
  return prepareUsers();
}

/** @param {RunData} data */
export function profileJourney(data) {
  const s = sessionFor(data);
  getProfile(s, someUserId(data, s.userId));
  if (Math.random() < 0.02) {
    updateProfile(s, { bio: `updated by k6 at ${Date.now()}` });
    getProfile(s, s.userId);
  }
}

export default profileJourney;
export const handleSummary = summaryWriter('profile');
