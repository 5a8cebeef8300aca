// @ts-check
/**
 * The mixed workload, weighted like a real social app: reads far above writes. Per iteration one
 * action is drawn by weight (feed 50%, profile 15%, an author's posts 5%, single post 8%,
 * leaderboard 7%, like 6%, post 4%, follow 4%, unfollow 1%).
 *   k6 run -e PROFILE=load -e RATE=150 -e DURATION=60s loadtests/k6/mixed.js
 */
import {
  authorPosts,
  createPost,
  follow,
  getPost,
  getProfile,
  like,
  readFeed,
  readLeaderboard,
  unfollow,
} from './lib/api.js';
import { ENDPOINTS, scenarioFor, thresholdsFor } from './lib/config.js';
import { summaryWriter } from './lib/summary.js';
import { prepareUsers, sessionFor, someUserId } from './lib/users.js';

/** @typedef {import('./lib/users.js').RunData} RunData */
/** @typedef {import('./lib/api.js').Session} Session */

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { mixed: scenarioFor('mixed', 200) },
  thresholds: thresholdsFor(ENDPOINTS.filter((e) => e !== 'signup' && e !== 'profile_update')),
};

/** Post ids seen in feeds, per VU, to read single posts the way a user opens one. */
/** @type {string[]} */
const seenPosts = [];

/** @type {Array<[number, (s: Session, data: RunData) => void]>} */
const ACTIONS = [
  [
    50,
    (s) => {
      for (const item of readFeed(s, Math.random() < 0.8 ? 1 : 3)) {
        if (item && item.id !== undefined && seenPosts.length < 200) {
          seenPosts.push(String(item.id));
        }
      }
    },
  ],
  [15, (s, data) => void getProfile(s, someUserId(data, s.userId))],
  [5, (s, data) => void authorPosts(s, someUserId(data, s.userId))],
  [
    8,
    (s) => {
      const id = seenPosts[Math.floor(Math.random() * seenPosts.length)];
      if (id) {
        getPost(s, id);
      } else {
        readFeed(s, 1);
      }
    },
  ],
  [7, (s) => void readLeaderboard(s)],
  [
    6,
    (s) => {
      const id = seenPosts[Math.floor(Math.random() * seenPosts.length)];
      if (id) {
        like(s, id, Math.random() < 0.9);
      } else {
        readFeed(s, 1);
      }
    },
  ],
  [4, (s) => void createPost(s, `mixed workload post ${Date.now()} from VU ${__VU}`)],
  [4, (s, data) => follow(s, someUserId(data, s.userId))],
  [1, (s, data) => unfollow(s, someUserId(data, s.userId))],
];
const TOTAL = ACTIONS.reduce((n, [w]) => n + w, 0);

export function setup() {
  return prepareUsers();
}

/** @param {RunData} data */
export function mixed(data) {
  const s = sessionFor(data);
  let pick = Math.random() * TOTAL;
  for (const [weight, act] of ACTIONS) {
    pick -= weight;
    if (pick < 0) {
      act(s, data);
      return;
    }
  }
}

export default mixed;
export const handleSummary = summaryWriter('mixed');
