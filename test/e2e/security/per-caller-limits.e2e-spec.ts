import { randomBytes, randomInt } from 'node:crypto';
import {
  ApiClient,
  type ApiResponse,
  edgeApi,
  startEdge,
  stackPools,
  startServiceProcess,
  type StartedEdge,
  type StartedServiceProcess,
} from '@murmur/testing';

/**
 * OWASP API4:2023 (unrestricted resource consumption): one anonymous client must not be able to
 * lock a route for everyone. The attack: requests that end in 401 (no token, or made-up tokens)
 * from one address, through a real NGINX, to a user-service process of this test's own with low
 * limits. Before the fix a route ceiling shared by all callers, counted before authentication,
 * filled up and every signed-in user got 429 on that route; now each caller has its own window:
 * per user with a valid session, per client address otherwise.
 */
const stack = edgeApi();
const PER_ADDRESS = 20;
const PER_USER = 30;
const WINDOW_S = 60;

/** Another loopback address per client and run, so no window is shared with an earlier run. */
const address = (): string => `127.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(2, 255)}`;

function expectLimited(res: ApiResponse, limit: number): void {
  expect(res.status).toBe(429);
  expect(res.contentType).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status: 429, code: 'rate_limited' });
  expect(res.headers.get('ratelimit-limit')).toBe(String(limit));
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
}

describe('per-caller limits through NGINX (API4: one client cannot lock a route for everyone)', () => {
  let user: StartedServiceProcess | undefined;
  let edge: StartedEdge | undefined;
  const client = (): ApiClient =>
    new ApiClient((edge as StartedEdge).base, { localAddress: address() });

  beforeAll(async () => {
    user = await startServiceProcess({
      service: 'user',
      name: 'user-per-caller',
      env: {
        RATE_LIMIT_PER_ADDRESS: `${PER_ADDRESS}/${WINDOW_S}`,
        RATE_LIMIT_PER_USER: `${PER_USER}/${WINDOW_S}`,
        OUTBOX_POLL_MS: '60000',
      },
    });
    edge = await startEdge({
      rateLimits: { api: false, auth: false },
      pools: stackPools({ user: [user.port] }),
    });
  });

  afterAll(async () => {
    await edge?.stop();
    await user?.stop();
  });

  it('an anonymous flood of 401s fills its own address’s window, and signed-in users and other clients go on', async () => {
    const victim = await stack.newUser('victim');
    const attacker = client();
    const statuses: number[] = [];
    for (let i = 0; i < PER_ADDRESS * 2; i++) {
      statuses.push((await attacker.request('GET', '/api/users/me')).status);
    }
    expect(statuses).toEqual([...Array(PER_ADDRESS).fill(401), ...Array(PER_ADDRESS).fill(429)]);
    expectLimited(await attacker.request('GET', '/api/users/me'), PER_ADDRESS);

    // The same route, at once: a signed-in user, from anywhere, is answered …
    const someone = client();
    for (let i = 0; i < 5; i++) {
      const me = await someone.request<{ id: string }>('GET', '/api/users/me', {
        token: victim.token,
      });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(victim.id);
    }
    // … and so is an anonymous client at another address.
    expect([200, 404]).toContain((await client().request('GET', `/api/users/${victim.id}`)).status);
  });

  it('made-up tokens count against the client address, not a fresh window per token', async () => {
    const attacker = client();
    const statuses: number[] = [];
    for (let i = 0; i < PER_ADDRESS + 5; i++) {
      const token = randomBytes(32).toString('base64url');
      statuses.push((await attacker.request('GET', '/api/users/me', { token })).status);
    }
    expect(statuses).toEqual([...Array(PER_ADDRESS).fill(401), ...Array(5).fill(429)]);
  });

  it('a signed-in user has one window over all addresses, and another user is not affected', async () => {
    const [heavy, other] = [await stack.newUser('heavy'), await stack.newUser('other')];
    const [a, b] = [client(), client()];
    const statuses: number[] = [];
    for (let i = 0; i < PER_USER + 4; i++) {
      const from = i % 2 === 0 ? a : b;
      statuses.push((await from.request('GET', '/api/users/me', { token: heavy.token })).status);
    }
    expect(statuses).toEqual([...Array(PER_USER).fill(200), ...Array(4).fill(429)]);
    expectLimited(await a.request('GET', '/api/users/me', { token: heavy.token }), PER_USER);
    expect((await a.request('GET', '/api/users/me', { token: other.token })).status).toBe(200);
  });
});
