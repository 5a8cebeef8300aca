import { randomBytes, randomInt } from 'node:crypto';
import {
  type ApiResponse,
  startServiceProcess,
  type StartedServiceProcess,
  testTopology,
  waitFor,
  withPostgres,
} from '@murmur/testing';
import { Redis } from 'ioredis';

/**
 * The user service's own limits, against real processes over HTTP: per client IP for sign-up,
 * and the per-address limit with its exempt probes (log-in throttling has its attack test in
 * test/e2e/security/login-throttle.e2e-spec.ts). The test stack runs with a high sign-up limit,
 * so each part starts one more user process with its own settings and talks to it directly,
 * from 127.0.0.1: a trusted proxy address (TRUST_PROXY_ADDRESSES), so the X-Forwarded-For sent
 * here is the client address it sees, as NGINX's would be.
 */
const t = testTopology();

const usedIps = new Set<string>();
/**
 * A client address no other request of this run uses: per-IP counts live in the data Redis
 * (`ratelimit:signup:ip:<ip>`), shared with the stack's processes and the other suites.
 */
function freshIp(): string {
  for (;;) {
    const ip = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
    if (!usedIps.has(ip)) {
      usedIps.add(ip);
      return ip;
    }
  }
}

const from = (ip: string): Record<string, string> => ({ 'x-forwarded-for': ip });

function newCredentials(): { username: string; email: string; password: string } {
  const username = `lim_${randomBytes(6).toString('hex')}`;
  return {
    username,
    email: `${username}@example.test`,
    password: `pw-${randomBytes(8).toString('hex')}`,
  };
}

/** A refusal by the limiter: 429 problem+json with Retry-After, and the rule it met. */
function expectRefused(
  res: ApiResponse,
  limit: number,
  windowSeconds: number,
  elapsedMs: number,
): void {
  expect(res.status).toBe(429);
  expect(res.contentType).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status: 429, code: 'rate_limited' });
  expect(res.headers.get('ratelimit-limit')).toBe(String(limit));
  expect(res.headers.get('ratelimit-remaining')).toBe('0');
  // The window opens again when its oldest admitted request (made at most `elapsedMs` ago) ages out.
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(retryAfter).toBeGreaterThanOrEqual(windowSeconds - Math.ceil(elapsedMs / 1000) - 1);
}

describe('the per-client-IP limit of sign-up (its default rule)', () => {
  let user: StartedServiceProcess | undefined;
  const signUp = (ip: string, body = newCredentials()): Promise<ApiResponse<{ id: string }>> =>
    (user as StartedServiceProcess).api.request<{ id: string }>('POST', '/api/users', {
      body,
      headers: from(ip),
    });

  beforeAll(async () => {
    // Without the test profile's high limits: the process falls back to the schema's defaults.
    user = await startServiceProcess({
      service: 'user',
      name: 'user-client-limits',
      env: { RATE_LIMIT_SIGNUP_PER_IP: undefined },
    });
  });

  afterAll(async () => {
    await user?.stop();
  });

  it('admits 20 sign-ups an hour from one client IP, refuses the 21st with 429, and still admits another IP', async () => {
    const ip = freshIp();
    const started = Date.now();
    const admitted: ApiResponse[] = [];
    for (let i = 0; i < 20; i++) {
      admitted.push(await signUp(ip));
    }
    expect(admitted.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(admitted.map((r) => r.headers.get('ratelimit-remaining'))).toEqual(
      Array.from({ length: 20 }, (_, i) => String(19 - i)),
    );

    const refusedBody = newCredentials();
    const refused = await signUp(ip, refusedBody);
    expectRefused(refused, 20, 3_600, Date.now() - started);
    // Refused before any work: no account was made.
    const made = await withPostgres(
      'pg-main-primary',
      t.database.name,
      async (c) =>
        (await c.query('SELECT 1 FROM users WHERE username = $1', [refusedBody.username])).rowCount,
    );
    expect(made).toBe(0);

    // Counted per client IP: another address signs up (and the first is still refused).
    expect((await signUp(freshIp())).status).toBe(201);
    expect((await signUp(ip)).status).toBe(429);
  });
});

/**
 * This suite's own database of the data Redis for the per-address process: its windows
 * (`ratelimit:caller:user:ip:<ip>`) must not be shared with the stack's user processes and the
 * other suites.
 */
const LIMIT_REDIS_DB = 11;
const PER_ADDRESS = 5;

describe('the per-address limit of the user service (requests without a session)', () => {
  const queueRedis = t.redis.find((r) => r.purpose === 'queue');
  let own: Redis | undefined;
  let user: StartedServiceProcess | undefined;

  beforeAll(async () => {
    own = new Redis({ host: '127.0.0.1', port: queueRedis?.port, db: LIMIT_REDIS_DB });
    await own.flushdb();
    // Its outbox relay drains the main outbox into this database's queues, where no worker
    // listens: start it only when no follow event is owed (the stack's relays drain within 0.5 s),
    // and let it poll only at its start (it lives seconds, and nothing in this suite follows).
    await waitFor(
      () =>
        withPostgres('pg-main-primary', t.database.name, async (c) =>
          (await c.query('SELECT 1 FROM outbox WHERE sent_at IS NULL LIMIT 1')).rowCount === 0
            ? true
            : undefined,
        ),
      { timeoutMs: 10_000, what: 'no unsent event in the main outbox' },
    );
    user = await startServiceProcess({
      service: 'user',
      name: 'user-per-address',
      env: {
        REDIS_URL: `redis://127.0.0.1:${queueRedis?.port}/${LIMIT_REDIS_DB}`,
        RATE_LIMIT_PER_ADDRESS: `${PER_ADDRESS}/60`,
        OUTBOX_POLL_MS: '60000',
      },
    });
  });

  afterAll(async () => {
    await user?.stop();
    await own?.flushdb();
    own?.disconnect();
  });

  const get = (path: string, ip: string): Promise<ApiResponse> =>
    (user as StartedServiceProcess).api.request('GET', path, { headers: from(ip) });

  it('admits 5 requests a minute from one address over all routes, then refuses with 429; another address is admitted', async () => {
    const ip = freshIp();
    const started = Date.now();
    const admitted: ApiResponse[] = [];
    for (let i = 0; i < PER_ADDRESS; i++) {
      admitted.push(await get(i % 2 === 0 ? `/api/users/${i + 1}` : '/api/users/me', ip));
    }
    // Answered by the route (found, not found, or 401 without a token).
    for (const r of admitted) {
      expect([200, 401, 404]).toContain(r.status);
    }
    expect(admitted.map((r) => r.headers.get('ratelimit-remaining'))).toEqual(
      Array.from({ length: PER_ADDRESS }, (_, i) => String(PER_ADDRESS - 1 - i)),
    );
    // The window is the caller's, over every route and id.
    expectRefused(await get('/api/users/1', ip), PER_ADDRESS, 60, Date.now() - started);
    expectRefused(await get('/api/users/me', ip), PER_ADDRESS, 60, Date.now() - started);
    expect((await get('/api/users/1', freshIp())).status).not.toBe(429);
  });

  it('exempts /health/live, /health/ready and /metrics: each answers 200 while the address is refused', async () => {
    const ip = freshIp();
    const exhausting: number[] = [];
    for (let i = 0; i <= PER_ADDRESS; i++) {
      exhausting.push((await get('/api/users/1', ip)).status);
    }
    expect(exhausting.at(-1)).toBe(429);

    for (const path of ['/health/live', '/health/ready', '/metrics']) {
      const statuses: number[] = [];
      for (let i = 0; i < PER_ADDRESS * 3; i++) {
        statuses.push((await get(path, ip)).status);
      }
      expect({ path, statuses }).toEqual({ path, statuses: Array(PER_ADDRESS * 3).fill(200) });
    }
    // Still refused: the probes answered beside it.
    expect((await get('/api/users/1', ip)).status).toBe(429);
  });
});
