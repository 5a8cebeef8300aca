// @ts-check
/**
 * Journey: read the home feed, paging with `nextCursor` (most sessions read one page, some scroll).
 * The feed SLO is the tightest: p95 under 50 ms.
 *   k6 run -e PROFILE=load loadtests/k6/feed.js
 */
import { readFeed } from './lib/api.js';
import { scenarioFor, thresholdsFor } from './lib/config.js';
import { summaryWriter } from './lib/summary.js';
import { prepareUsers, sessionFor } from './lib/users.js';

/** @typedef {import('./lib/users.js').RunData} RunData */

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { feed: scenarioFor('feedJourney', 100) },
  thresholds: thresholdsFor(['login', 'feed']),
};

export function setup() {
  return prepareUsers();
}

/** @param {RunData} data */
export function feedJourney(data) {
  const pages = Math.random() < 0.7 ? 1 : Math.random() < 0.8 ? 3 : 10;
  readFeed(sessionFor(data), pages);
}

export default feedJourney;
export const handleSummary = summaryWriter('feed');
