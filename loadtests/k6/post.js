// @ts-check
/**
 * Journey: write a post and read it back. Writes are limited per user
 * (RATE_LIMIT_WRITES_PER_USER, default 60/60 s): the sessions setup() prepares (up to 1,000
 * seeded ones) times the limit bounds the rate.
 *   k6 run -e PROFILE=load loadtests/k6/post.js
 */
import { createPost, getPost } from './lib/api.js';
import { scenarioFor, thresholdsFor } from './lib/config.js';
import { summaryWriter } from './lib/summary.js';
import { prepareUsers, sessionFor } from './lib/users.js';

/** @typedef {import('./lib/users.js').RunData} RunData */

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { post: scenarioFor('postJourney', 20) },
  thresholds: thresholdsFor(['login', 'post_create', 'post_read']),
};

export function setup() {
  return prepareUsers();
}

/** @param {RunData} data */
export function postJourney(data) {
  const s = sessionFor(data);
  const id = createPost(s, `k6 says hello at ${new Date().toISOString()} from VU ${__VU}`);
  if (id) {
    getPost(s, id);
  }
}

export default postJourney;
export const handleSummary = summaryWriter('post');
