// @ts-check
/**
 * Journey: open an author's posts, like a few of them (sometimes unlike one again) and read one
 * back with its live count. Likes are written behind: the answer comes from Redis and the post
 * worker flushes them to Postgres in coalesced batches. Writes are limited per user
 * (RATE_LIMIT_WRITES_PER_USER, default 60/60 s): the sessions setup() prepares (up to 1,000
 * seeded ones) times the limit bounds the rate.
 *   k6 run -e PROFILE=load loadtests/k6/like.js
 */
import { authorPosts, createPost, getPost, like } from './lib/api.js';
import { scenarioFor, thresholdsFor } from './lib/config.js';
import { summaryWriter } from './lib/summary.js';
import { prepareUsers, sessionFor, someUserId } from './lib/users.js';

/** @typedef {import('./lib/users.js').RunData} RunData */

/** how many setup sessions post something to like */
const AUTHORS = 10;

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { like: scenarioFor('likeJourney', 20) },
  thresholds: thresholdsFor(['login', 'author_posts', 'like', 'unlike', 'post_read']),
};

export function setup() {
  const data = prepareUsers();
  // Something to like even on an unseeded stack: the first sessions post once each.
  for (const s of data.sessions.slice(0, AUTHORS)) {
    createPost(s, `something to like, from ${s.userId}`);
  }
  return data;
}

/** @param {RunData} data */
export function likeJourney(data) {
  const s = sessionFor(data);
  const author =
    Math.random() < 0.5
      ? data.sessions[Math.floor(Math.random() * Math.min(AUTHORS, data.sessions.length))].userId
      : someUserId(data, s.userId);
  const posts = authorPosts(s, author);
  for (const post of posts.slice(0, 3)) {
    like(s, String(post.id));
  }
  if (posts.length > 0) {
    if (Math.random() < 0.2) {
      like(s, String(posts[0].id), false);
    }
    getPost(s, String(posts[0].id));
  }
}

export default likeJourney;
export const handleSummary = summaryWriter('like');
