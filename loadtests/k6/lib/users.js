// @ts-check
/**
 * The users a run needs. With a seeded data set (`npm run seed` writes
 * loadtests/data/seed-credentials.json) setup() logs in a sample of seeded users, whose feeds and
 * follow graph are already realistic; without one it signs up fresh users and has them follow
 * each other. `-e SEED_CREDENTIALS=<path>` points elsewhere, `-e SEED_CREDENTIALS=none` forces
 * fresh users, `-e SETUP_USERS=N` sets how many sessions setup() makes (default 20).
 */
import { SharedArray } from 'k6/data';
import { fail } from 'k6';
import { follow, logIn, signUp } from './api.js';

/** @typedef {import('./api.js').Session} Session */
/** @typedef {{ id: string, username: string }} SeededUser */
/** @typedef {{ sessions: Session[], userIds: string[] }} RunData */

const SEED_PATH = __ENV.SEED_CREDENTIALS || '../../data/seed-credentials.json';

/** @type {{ password: string, users: SeededUser[] } | undefined} */
const seeded = (() => {
  if (SEED_PATH === 'none') {
    return undefined;
  }
  try {
    // open() only works in the init context, and only once per VU: keep one shared copy.
    const users = new SharedArray('seeded users', () => JSON.parse(open(SEED_PATH)).users);
    const password = /** @type {string} */ (JSON.parse(open(SEED_PATH)).password);
    return { password, users: /** @type {SeededUser[]} */ (/** @type {unknown} */ (users)) };
  } catch {
    return undefined;
  }
})();

export const SETUP_USERS = Number(__ENV.SETUP_USERS || 20);
const PASSWORD = 'load-test-password';

/** A username unique across runs: k6 VU/iteration ids repeat, the clock does not. */
export function freshUsername() {
  const rand = Math.floor(Math.random() * 1e6).toString(36);
  return `k6_${Date.now().toString(36)}_${rand}`.slice(0, 30);
}

/**
 * Build the sessions a run uses; call from setup().
 * @param {number} [count]
 * @returns {RunData}
 */
export function prepareUsers(count = SETUP_USERS) {
  /** @type {Session[]} */
  const sessions = [];
  if (seeded && seeded.users.length > 0) {
    const n = seeded.users.length;
    for (let i = 0; i < count; i++) {
      const u = seeded.users[Math.floor(Math.random() * n)];
      const s = logIn(u.username, seeded.password);
      if (s) {
        sessions.push(s);
      }
    }
    const sample = Math.min(n, 5000);
    /** @type {string[]} */
    const userIds = [];
    for (let i = 0; i < sample; i++) {
      userIds.push(String(seeded.users[Math.floor(Math.random() * n)].id));
    }
    if (sessions.length === 0) {
      fail('could not log in any seeded user: is the seed from this stack?');
    }
    return { sessions, userIds };
  }
  for (let i = 0; i < count; i++) {
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
