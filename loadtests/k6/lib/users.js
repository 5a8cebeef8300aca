// @ts-check
/**
 * The users a run needs. With a seeded data set (`npm run seed` writes
 * loadtests/data/seed-credentials.json) setup() reuses the sessions the seeder minted for a sample
 * of seeded users, whose feeds and follow graph are already realistic: no log-in, so no log-in
 * rate limit (30 per 5 min per IP), and writes spread over many users stay under the per-user
 * write limit. If those sessions are stale it logs in a few seeded users instead; without a seed
 * it signs up fresh users who follow each other. `-e SEED_CREDENTIALS=<path>` points elsewhere,
 * `-e SEED_CREDENTIALS=none` forces fresh users, `-e SETUP_USERS=N` sets how many sessions
 * setup() prepares (default: every seeded session, up to 1,000; 20 fresh users).
 */
import { SharedArray } from 'k6/data';
import { fail } from 'k6';
import { follow, logIn, sessionIsLive, signUp } from './api.js';

/** @typedef {import('./api.js').Session} Session */
/** @typedef {{ id: string, username: string }} SeededUser */
/** @typedef {{ userId: string, username: string, token: string }} SeededSession */
/** @typedef {{ sessions: Session[], userIds: string[] }} RunData */

const SEED_PATH = __ENV.SEED_CREDENTIALS || '../../data/seed-credentials.json';
/** Log-ins when the seeded sessions are stale: well inside the per-IP log-in limit. */
const FALLBACK_LOGINS = 5;

/**
 * @type {{ password: string, users: SeededUser[], sessions: SeededSession[] } | undefined}
 */
const seeded = (() => {
  if (SEED_PATH === 'none') {
    return undefined;
  }
  try {
    // open() only works in the init context, and only once per VU: keep one shared copy.
    const file = () => JSON.parse(open(SEED_PATH));
    const users = new SharedArray('seeded users', () => file().users);
    const sessions = new SharedArray('seeded sessions', () => file().sessions || []);
    const password = /** @type {string} */ (file().password);
    return {
      password,
      users: /** @type {SeededUser[]} */ (/** @type {unknown} */ (users)),
      sessions: /** @type {SeededSession[]} */ (/** @type {unknown} */ (sessions)),
    };
  } catch (_noSeed) {
    return undefined;
  }
})();

const PASSWORD = 'load-test-password';

/** A username unique across runs: k6 VU/iteration ids repeat, the clock does not. */
export function freshUsername() {
  const rand = Math.floor(Math.random() * 1e6).toString(36);
  return `k6_${Date.now().toString(36)}_${rand}`.slice(0, 30);
}

/**
 * `count` distinct items from `list`, in random order.
 * @template T @param {readonly T[]} list @param {number} count @returns {T[]}
 */
function sample(list, count) {
  const copy = list.slice();
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const t = copy[i];
    copy[i] = copy[j];
    copy[j] = t;
  }
  return copy.slice(0, Math.min(count, copy.length));
}

/**
 * Sessions from the seed: the minted ones if they still open a session, else a few log-ins.
 * @param {NonNullable<typeof seeded>} seed @param {number | undefined} count
 * @returns {Session[]}
 */
function seededSessions(seed, count) {
  const minted = sample(seed.sessions, count === undefined ? 1000 : count);
  if (minted.length > 0 && sessionIsLive(minted[0].token)) {
    return minted.map((m) => ({ username: m.username, token: m.token, userId: String(m.userId) }));
  }
  console.warn(
    minted.length > 0
      ? 'the seeded sessions are stale (GET /api/users/me answered 401): logging in a few seeded users; `npm run seed` mints fresh ones'
      : 'the credentials file has no sessions (an older seed): logging in a few seeded users; `npm run seed` mints them',
  );
  /** @type {Session[]} */
  const sessions = [];
  for (const u of sample(
    seed.users,
    Math.min(FALLBACK_LOGINS, count === undefined ? FALLBACK_LOGINS : count),
  )) {
    const s = logIn(u.username, seed.password);
    if (s) {
      sessions.push(s);
    }
  }
  return sessions;
}

/**
 * Build the sessions a run uses; call from setup().
 * @param {number} [count] sessions to prepare (default: SETUP_USERS, else see above)
 * @returns {RunData}
 */
export function prepareUsers(count = __ENV.SETUP_USERS ? Number(__ENV.SETUP_USERS) : undefined) {
  if (seeded && seeded.users.length > 0) {
    const sessions = seededSessions(seeded, count);
    if (sessions.length === 0) {
      fail('could not log in any seeded user: is the seed from this stack?');
    }
    const n = seeded.users.length;
    /** @type {string[]} */
    const userIds = [];
    for (let i = 0; i < Math.min(n, 5000); i++) {
      userIds.push(String(seeded.users[Math.floor(Math.random() * n)].id));
    }
    return { sessions, userIds };
  }
  /** @type {Session[]} */
  const sessions = [];
  for (let i = 0; i < (count === undefined ? 20 : count); i++) {
    const username = freshUsername();
    signUp(username, PASSWORD);
    const s = logIn(username, PASSWORD);
    if (s) {
      sessions.push(s);
    }
  }
  if (sessions.length === 0) {
    fail('could not sign up any user: check BASE_URL and the sign-up rate limit');
  }
  // A small ring so every fresh user has someone to read in its feed.
  for (let i = 0; i < sessions.length; i++) {
    follow(sessions[i], sessions[(i + 1) % sessions.length].userId);
  }
  return { sessions, userIds: sessions.map((s) => s.userId) };
}

/**
 * The session this iteration acts as: spread VUs over the prepared sessions.
 * @param {RunData} data
 */
export function sessionFor(data) {
  return data.sessions[(__VU + __ITER) % data.sessions.length];
}

/**
 * A user to look at or follow; seeded ids are sampled uniformly, so popular users are visited
 * as often as their share of the graph (the graph itself is power-law).
 * @param {RunData} data @param {string} [not]
 */
export function someUserId(data, not) {
  for (let i = 0; i < 5; i++) {
    const id = data.userIds[Math.floor(Math.random() * data.userIds.length)];
    if (id !== not) {
      return id;
    }
  }
  return data.userIds[0];
}
