/**
 * What the benchmarks send: the seeded sessions, the journeys (one request each, tagged with the
 * k6 endpoint it belongs to) and the headers, which are the k6 scripts' own
 * (loadtests/k6/lib/api.js), so that a figure here is a figure for what k6 users send.
 */
import { randomUUID } from 'node:crypto';
import type { Row } from './report';

export interface Credentials {
  password: string;
  users: Array<{ id: string; username: string }>;
  /** sessions `npm run seed` minted (absent in credentials files from older seeds) */
  sessions?: Array<{ userId: string; token: string }>;
}

export interface Session {
  token: string;
  userId: string;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One HTTP request of a journey; `endpoint` is the k6 `endpoint` tag (loadtests/k6/lib/config.js). */
export interface JourneyRequest {
  method: Method;
  path: string;
  body?: string;
  endpoint: string;
  /** request headers beyond the k6 ones (the Idempotency-Key of a create) */
  headers?: Record<string, string>;
}

export interface Journey {
  /** short name for command lines (`--journeys feed,mixed`) */
  id: string;
  name: string;
  kind: Row['kind'];
  auth: boolean;
  /** the next request, made by `session` */
  next: (session: Session) => JourneyRequest;
}

/** A create, as the k6 scripts send it: with a key per post, so a retry cannot post twice. */
function createPost(text: string): JourneyRequest {
  return {
    method: 'POST',
    path: '/api/posts',
    body: JSON.stringify({ text }),
    endpoint: 'post_create',
    headers: { 'Idempotency-Key': randomUUID() },
  };
}

/** What the journeys draw from: seeded user ids and post ids seen in the seeded users' feeds. */
export interface JourneyData {
  userIds: string[];
  postIds: string[];
}

export const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

/**
 * The k6 scripts' headers: `Content-Type: application/json` on every request, bodiless POST, PUT
 * and DELETE included (real clients do this), and the bearer token.
 */
export function k6Headers(token?: string): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    ...(token ? { Authorization: `Bearer ${token}` } : {}),
  };
}

export async function logIn(base: string, username: string, password: string): Promise<Session> {
  const res = await fetch(`${base}/api/sessions`, {
    method: 'POST',
    headers: k6Headers(),
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 201) {
    throw new Error(`login of ${username} answered ${res.status}: is the seed from this stack?`);
  }
  const b = (await res.json()) as { token: string; userId: string };
  return { token: b.token, userId: String(b.userId) };
}

/** Do the seeded sessions still open a session on this stack? */
async function sessionsAreLive(base: string, minted: Credentials['sessions']): Promise<boolean> {
  const first = minted?.[0];
  if (!first) {
    return false;
  }
  const res = await fetch(`${base}/api/users/me`, { headers: k6Headers(first.token) });
  await res.arrayBuffer();
  return res.status === 200;
}

/**
 * `count` sessions: the ones `npm run seed` minted when they are still live (as the k6 scripts'
 * setup() uses them), else log in the first `count` seeded users (a few at a time: each login
 * hashes with argon2id). Then collect post ids from the first ten users' feeds.
 */
export async function openSessions(
  base: string,
  creds: Credentials,
  count: number,
  parallel = 4,
): Promise<{ sessions: Session[]; data: JourneyData }> {
  let sessions: Session[];
  if (await sessionsAreLive(base, creds.sessions)) {
    sessions = (creds.sessions ?? [])
      .slice(0, count)
      .map((s) => ({ token: s.token, userId: String(s.userId) }));
  } else {
    const users = creds.users.slice(0, Math.min(count, creds.users.length));
    sessions = new Array<Session>(users.length);
    let cursor = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (cursor < users.length) {
          const k = cursor++;
          sessions[k] = await logIn(base, users[k].username, creds.password);
        }
      }),
    );
  }
  const ids = new Set<string>();
  for (const s of sessions.slice(0, 10)) {
    const feed = (await (
      await fetch(`${base}/api/feed?limit=50`, { headers: k6Headers(s.token) })
    ).json()) as { items: Array<{ id: string }> };
    feed.items.forEach((p) => ids.add(String(p.id)));
  }
  if (ids.size === 0) {
    throw new Error('the seeded users have empty feeds: seed with more posts');
  }
  return { sessions, data: { userIds: creds.users.map((u) => u.id), postIds: [...ids] } };
}

/** Another seeded user than `self`, as k6's `someUserId` picks. */
function someoneElse(data: JourneyData, self: string): string {
  for (let i = 0; i < 5; i++) {
    const id = pick(data.userIds);
    if (id !== self) {
      return id;
    }
  }
  return pick(data.userIds);
}

/** The single journeys, each one endpoint (like/unlike: one resource). */
export function benchJourneys(data: JourneyData): Journey[] {
  let n = 0;
  return [
    {
      id: 'feed',
      name: 'feed: first page',
      kind: 'journey',
      auth: true,
      next: () => ({ method: 'GET', path: '/api/feed?limit=20', endpoint: 'feed' }),
    },
    {
      id: 'profile',
      name: 'profile: random user',
      kind: 'journey',
      auth: true,
      next: () => ({
        method: 'GET',
        path: `/api/users/${pick(data.userIds)}`,
        endpoint: 'profile',
      }),
    },
    {
      id: 'post-read',
      name: 'post: read one',
      kind: 'journey',
      auth: true,
      next: () => ({
        method: 'GET',
        path: `/api/posts/${pick(data.postIds)}`,
        endpoint: 'post_read',
      }),
    },
    {
      id: 'leaderboard',
      name: 'leaderboard: top 10',
      kind: 'journey',
      auth: true,
      next: () => ({
        method: 'GET',
        path: '/api/leaderboards/posters?limit=10',
        endpoint: 'leaderboard',
      }),
    },
    {
      // PUT or DELETE at random: whatever share of the pairs is liked already, half of the
      // requests change something, so every configuration does the same work.
      id: 'like',
      name: 'like: PUT or DELETE, random post',
      kind: 'write',
      auth: true,
      next: () => {
        const liked = Math.random() < 0.5;
        return {
          method: liked ? 'PUT' : 'DELETE',
          path: `/api/posts/${pick(data.postIds)}/like`,
          endpoint: liked ? 'like' : 'unlike',
        };
      },
    },
    {
      id: 'post-create',
      name: 'post: create',
      kind: 'write',
      auth: true,
      next: () => createPost(`bench post ${++n} at ${Date.now()}`),
    },
  ];
}

/** The ceilings: NGINX answering by itself, and the most trivial service endpoint. */
export const CEILING_JOURNEYS: Journey[] = [
  {
    id: 'nginx',
    name: 'NGINX /nginx/health',
    kind: 'ceiling',
    auth: false,
    next: () => ({ method: 'GET', path: '/nginx/health', endpoint: 'nginx' }),
  },
  {
    id: 'trivial',
    name: 'trivial: leaderboard top 1',
    kind: 'ceiling',
    auth: true,
    next: () => ({
      method: 'GET',
      path: '/api/leaderboards/posters?limit=1',
      endpoint: 'leaderboard',
    }),
  },
];

/**
 * loadtests/k6/mixed.js as single requests, with its weights: feed 50, profile 15, an author's
 * posts 5, one post 8, leaderboard 7, like 6 (one in ten an unlike), post 4, follow 4, unfollow 1.
 * Where mixed.js scrolls a feed (one iteration in five reads three pages) this sends first pages:
 * a cursor needs the previous answer, which an open loop does not wait for.
 */
export function mixedJourney(data: JourneyData): Journey {
  let n = 0;
  const actions: Array<[number, (s: Session) => JourneyRequest]> = [
    [50, () => ({ method: 'GET', path: '/api/feed?limit=20', endpoint: 'feed' })],
    [
      15,
      (s) => ({
        method: 'GET',
        path: `/api/users/${someoneElse(data, s.userId)}`,
        endpoint: 'profile',
      }),
    ],
    [
      5,
      (s) => ({
        method: 'GET',
        path: `/api/posts?author=${someoneElse(data, s.userId)}&limit=20`,
        endpoint: 'author_posts',
      }),
    ],
    [8, () => ({ method: 'GET', path: `/api/posts/${pick(data.postIds)}`, endpoint: 'post_read' })],
    [
      7,
      () => ({
        method: 'GET',
        path: '/api/leaderboards/posters?limit=10',
        endpoint: 'leaderboard',
      }),
    ],
    [
      6,
      () => {
        const liked = Math.random() < 0.9;
        return {
          method: liked ? 'PUT' : 'DELETE',
          path: `/api/posts/${pick(data.postIds)}/like`,
          endpoint: liked ? 'like' : 'unlike',
        };
      },
    ],
    [4, () => createPost(`mixed bench post ${++n} at ${Date.now()}`)],
    [
      4,
      (s) => ({
        method: 'POST',
        path: `/api/users/${someoneElse(data, s.userId)}/follow`,
        endpoint: 'follow',
      }),
    ],
    [
      1,
      (s) => ({
        method: 'DELETE',
        path: `/api/users/${someoneElse(data, s.userId)}/follow`,
        endpoint: 'unfollow',
      }),
    ],
  ];
  const total = actions.reduce((sum, [w]) => sum + w, 0);
  return {
    id: 'mixed',
    name: 'mixed (k6 mixed.js weights)',
    kind: 'journey',
    auth: true,
    next: (s) => {
      let r = Math.random() * total;
      for (const [weight, act] of actions) {
        r -= weight;
        if (r < 0) {
          return act(s);
        }
      }
      return actions[0][1](s);
    },
  };
}
