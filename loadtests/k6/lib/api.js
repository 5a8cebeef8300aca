// @ts-check
/**
 * The Murmur API as k6 calls, each tagged with its endpoint and checked. URLs with ids are grouped
 * under one `name` tag so k6 does not create one time series per id.
 */
import http from 'k6/http';
import { check } from 'k6';
import { BASE_URL } from './config.js';

/** @typedef {{ username: string, token: string, userId: string }} Session */

// Written for k6 v0.47 and later: k6 up to v0.52 compiles ES modules with Babel 6, which rejects
// object spread and `catch {` (npm test compiles every script with that compiler).

/**
 * @param {string} endpoint
 * @param {string} [name] URL template for grouping
 * @param {string} [token]
 * @returns {import('k6/http').Params}
 */
function params(endpoint, name, token) {
  /** @type {Record<string, string>} */
  const headers = { 'Content-Type': 'application/json' };
  if (token) {
    headers.Authorization = `Bearer ${token}`;
  }
  /** @type {Record<string, string>} */
  const tags = { endpoint };
  if (name) {
    tags.name = name;
  }
  return { headers, tags };
}

/**
 * A key unique to this request: the VU, its iteration and the clock keep keys from two VUs (or
 * two runs) apart, the random part keeps two creates of one iteration apart. Uniqueness is all a
 * key needs; it is not a secret.
 */
function idempotencyKey() {
  const rand = Math.floor(Math.random() * 1e12).toString(36);
  return `k6-${Date.now().toString(36)}-${__VU}-${__ITER}-${rand}`;
}

/**
 * @param {import('k6/http').RefinedResponse<'text'>} res
 * @returns {any}
 */
function body(res) {
  try {
    return res.json();
  } catch (_notJson) {
    return undefined;
  }
}

/**
 * @param {import('k6/http').RefinedResponse<'text'>} res
 * @param {string} endpoint
 * @param {number} status
 * @param {(b: any) => boolean} [shape]
 */
function expect(res, endpoint, status, shape) {
  /** @type {Record<string, (r: import('k6/http').RefinedResponse<'text'>) => boolean>} */
  const checks = { [`${endpoint} status ${status}`]: (r) => r.status === status };
  if (shape) {
    checks[`${endpoint} body`] = (r) => shape(body(r));
  }
  const ok = check(res, checks, { endpoint });
  if (!ok) {
    reportUnexpected(res, endpoint, status);
  }
  return ok;
}

/** Unexpected answers logged per VU and endpoint: enough to see why a check failed, not a flood. */
const LOGGED_PER_ENDPOINT = 3;
/** @type {Record<string, number>} */
const logged = {};

/**
 * @param {import('k6/http').RefinedResponse<'text'>} res
 * @param {string} endpoint
 * @param {number} status
 */
function reportUnexpected(res, endpoint, status) {
  const seen = logged[endpoint] || 0;
  if (seen >= LOGGED_PER_ENDPOINT) {
    return;
  }
  logged[endpoint] = seen + 1;
  const problem = body(res);
  const detail =
    res.status === 0
      ? res.error
      : problem && (problem.code || problem.title)
        ? `${problem.code || ''} ${problem.detail || problem.title || ''}`.trim()
        : '';
  console.warn(
    `${endpoint}: expected ${status}, got ${res.status} ${res.request.method} ${res.url}${detail ? ` (${detail})` : ''}` +
      (seen + 1 === LOGGED_PER_ENDPOINT ? ' [further ones on this VU not logged]' : ''),
  );
}

/** @param {string} username @param {string} password */
export function signUp(username, password) {
  const res = http.post(
    `${BASE_URL}/api/users`,
    JSON.stringify({ username, email: `${username}@load.murmur.test`, password }),
    params('signup'),
  );
  expect(res, 'signup', 201, (b) => b && typeof b.id === 'string' && b.username === username);
  return body(res);
}

/**
 * @param {string} username @param {string} password
 * @returns {Session | undefined}
 */
export function logIn(username, password) {
  const res = http.post(
    `${BASE_URL}/api/sessions`,
    JSON.stringify({ username, password }),
    params('login'),
  );
  const ok = expect(res, 'login', 201, (b) => b && typeof b.token === 'string');
  const b = body(res);
  return ok ? { username, token: b.token, userId: String(b.userId) } : undefined;
}

/**
 * Whether a token still opens a session (GET /api/users/me): 401 is an answer here, not a failed
 * request, so a stale seeded session does not count against the run's thresholds.
 * @param {string} token
 */
export function sessionIsLive(token) {
  const p = params('session_check', undefined, token);
  p.responseCallback = http.expectedStatuses(200, 401);
  return http.get(`${BASE_URL}/api/users/me`, p).status === 200;
}

/** @param {Session} s @param {string} userId */
export function getProfile(s, userId) {
  const res = http.get(
    `${BASE_URL}/api/users/${userId}`,
    params('profile', '/api/users/:id', s.token),
  );
  expect(res, 'profile', 200, (b) => b && String(b.id) === String(userId));
  return body(res);
}

/** @param {Session} s @param {{ displayName?: string, bio?: string }} patch */
export function updateProfile(s, patch) {
  const res = http.patch(
    `${BASE_URL}/api/users/me`,
    JSON.stringify(patch),
    params('profile_update', undefined, s.token),
  );
  expect(res, 'profile_update', 200);
}

/** @param {Session} s @param {string} userId */
export function follow(s, userId) {
  const res = http.post(
    `${BASE_URL}/api/users/${userId}/follow`,
    null,
    params('follow', '/api/users/:id/follow', s.token),
  );
  expect(res, 'follow', 204);
}

/** @param {Session} s @param {string} userId */
export function unfollow(s, userId) {
  const res = http.del(
    `${BASE_URL}/api/users/${userId}/follow`,
    null,
    params('unfollow', '/api/users/:id/follow', s.token),
  );
  expect(res, 'unfollow', 204);
}

/** @param {Session} s @param {string} text @returns {string | undefined} the new post's id */
export function createPost(s, text) {
  const p = params('post_create', undefined, s.token);
  // A key per post (the API honours Idempotency-Key): a client that retries a create whose answer
  // it lost gets the first post back instead of a duplicate.
  /** @type {Record<string, string>} */ (p.headers)['Idempotency-Key'] = idempotencyKey();
  const res = http.post(`${BASE_URL}/api/posts`, JSON.stringify({ text }), p);
  expect(res, 'post_create', 201, (b) => b && b.id !== undefined);
  const b = body(res);
  return b ? String(b.id) : undefined;
}

/** @param {Session} s @param {string} postId */
export function getPost(s, postId) {
  const res = http.get(
    `${BASE_URL}/api/posts/${postId}`,
    params('post_read', '/api/posts/:id', s.token),
  );
  expect(res, 'post_read', 200, (b) => b && String(b.id) === postId);
}

/**
 * Like (or unlike) a post: PUT/DELETE, idempotent. The answer carries the live count.
 * @param {Session} s @param {string} postId @param {boolean} [liked]
 */
export function like(s, postId, liked = true) {
  const name = liked ? 'like' : 'unlike';
  const url = `${BASE_URL}/api/posts/${postId}/like`;
  const p = params(name, '/api/posts/:id/like', s.token);
  const res = liked ? http.put(url, null, p) : http.del(url, null, p);
  expect(res, name, 200, (b) => b && b.liked === liked && typeof b.likeCount === 'number');
}

/**
 * An author's posts, newest first (the tagged page cache).
 * @param {Session} s @param {string} authorId @returns {any[]} the first page
 */
export function authorPosts(s, authorId) {
  const res = http.get(
    `${BASE_URL}/api/posts?author=${authorId}&limit=20`,
    params('author_posts', '/api/posts?author', s.token),
  );
  expect(res, 'author_posts', 200, (b) => b && Array.isArray(b.items));
  const page = body(res);
  return page && Array.isArray(page.items) ? page.items : [];
}

/**
 * Read the home feed, following `nextCursor` for up to `pages` pages.
 * @param {Session} s @param {number} pages @param {number} [limit]
 * @returns {any[]} the items read
 */
export function readFeed(s, pages, limit = 20) {
  /** @type {any[]} */
  const items = [];
  /** @type {string | null | undefined} */
  let cursor;
  for (let page = 0; page < pages; page++) {
    const q = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const res = http.get(
      `${BASE_URL}/api/feed?limit=${limit}${q}`,
      params('feed', '/api/feed', s.token),
    );
    expect(res, 'feed', 200, (b) => b && Array.isArray(b.items));
    const b = body(res);
    if (!b || !Array.isArray(b.items)) {
      break;
    }
    items.push(...b.items);
    cursor = b.nextCursor;
    if (!cursor) {
      break;
    }
  }
  return items;
}

/** @param {Session} s @param {number} [limit] */
export function readLeaderboard(s, limit = 10) {
  const res = http.get(
    `${BASE_URL}/api/leaderboards/posters?limit=${limit}`,
    params('leaderboard', '/api/leaderboards/posters', s.token),
  );
  expect(res, 'leaderboard', 200, (b) => b && Array.isArray(b.entries));
  return body(res);
}
