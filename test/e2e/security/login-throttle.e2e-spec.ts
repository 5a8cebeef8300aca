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
 * OWASP API2:2023 (broken authentication), log-in throttling. The attacks, through a real NGINX
 * to a user-service process of this test's own with low limits:
 * - guessing one account's password: after BACKOFF_AFTER failures in a row the account waits
 *   (1 s, doubling), whatever the address and even with the right password, while other
 *   accounts from the same address log in; unknown usernames get the same answers;
 * - one address behind which everybody sits (a proxy, a NAT): successful log-ins are not
 *   counted, so they never lock the address; only failures fill its window;
 * - a client that reaches the service port directly and writes its own X-Forwarded-For: the
 *   service believes that header only from the configured proxy addresses.
 * Before the fix every attempt, right ones included, counted per client address only, and any
 * peer's X-Forwarded-For was believed.
 */
const stack = edgeApi();
const BACKOFF_AFTER = 3;
const PER_ADDRESS = 4;

/** Another loopback address per client, so no window is shared with another test or run. */
const address = (): string => `127.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(2, 255)}`;

function expectRefused(res: ApiResponse, code: 'login_backoff' | 'rate_limited'): number {
  expect(res.status).toBe(429);
  expect(res.contentType).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status: 429, code });
  expect((res.body as { token?: string }).token).toBeUndefined();
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  return retryAfter;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('log-in throttling through NGINX (API2)', () => {
  let user: StartedServiceProcess | undefined;
  let edge: StartedEdge | undefined;
  const client = (): ApiClient =>
    new ApiClient((edge as StartedEdge).base, { localAddress: address() });
  const logIn = (from: ApiClient, username: string, password: string): Promise<ApiResponse> =>
    from.request('POST', '/api/sessions', { body: { username, password } });
  const statuses = async (attempts: Array<() => Promise<ApiResponse>>): Promise<number[]> => {
    const out: number[] = [];
    for (const attempt of attempts) {
      out.push((await attempt()).status);
    }
    return out;
  };
  const wrong = (from: ApiClient, username: string, n: number) =>
    Array.from({ length: n }, (_, i) => () => logIn(from, username, `wrong-${i}`));

  beforeAll(async () => {
    user = await startServiceProcess({
      service: 'user',
      name: 'user-login-throttle',
      env: {
        RATE_LIMIT_LOGIN_PER_IP: `${PER_ADDRESS}/60`,
        RATE_LIMIT_LOGIN_BACKOFF_AFTER: String(BACKOFF_AFTER),
        RATE_LIMIT_LOGIN_BACKOFF_BASE_SECONDS: '1',
        // NGINX connects from 127.0.0.1; every other loopback address is a client
        TRUST_PROXY_ADDRESSES: '127.0.0.1/32',
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

  it('backs off one account after failures in a row, from any address and even with the right password; other accounts log in', async () => {
    const [victim, other] = [await stack.newUser('victim'), await stack.newUser('other')];
    const a = client();
    expect(await statuses(wrong(a, victim.username, BACKOFF_AFTER))).toEqual(
      Array(BACKOFF_AFTER).fill(401),
    );
    // The guesser cannot learn the password now: the right one is refused too, from anywhere.
    expect(
      expectRefused(await logIn(client(), victim.username, victim.password), 'login_backoff'),
    ).toBe(1);
    // Another account from the attacker's own address is not affected.
    expect((await logIn(a, other.username, other.password)).status).toBe(201);

    await sleep(1_100);
    // The wait is over: one more wrong guess is checked (401), and the next wait is twice as long.
    expect((await logIn(a, victim.username, 'wrong-again')).status).toBe(401);
    expect(expectRefused(await logIn(a, victim.username, victim.password), 'login_backoff')).toBe(
      2,
    );
    await sleep(2_100);
    // The right password, once admitted, clears the count: failures start again from zero.
    expect((await logIn(client(), victim.username, victim.password)).status).toBe(201);
    expect(await statuses(wrong(client(), victim.username, BACKOFF_AFTER))).toEqual(
      Array(BACKOFF_AFTER).fill(401),
    );
    expectRefused(await logIn(a, victim.username, victim.password), 'login_backoff');
  });

  it('answers an unknown username exactly like a real one (no account enumeration)', async () => {
    const nobody = `nobody_${randomBytes(6).toString('hex')}`;
    expect(await statuses(wrong(client(), nobody, BACKOFF_AFTER))).toEqual(
      Array(BACKOFF_AFTER).fill(401),
    );
    expectRefused(await logIn(client(), nobody, 'anything-at-all'), 'login_backoff');
  });

  it('never counts successful log-ins against an address; failures over all usernames fill it', async () => {
    const someone = await stack.newUser('shared');
    const nat = client();
    // Many users behind one address log in: every one is admitted (before the fix the fifth was 429).
    const many = Array.from(
      { length: PER_ADDRESS * 3 },
      () => () => logIn(nat, someone.username, someone.password),
    );
    expect(await statuses(many)).toEqual(Array(PER_ADDRESS * 3).fill(201));

    // Credential stuffing from that address: one guess each on many usernames.
    const stuffing = Array.from(
      { length: PER_ADDRESS },
      (_, i) => () => logIn(nat, `stuffed_${randomBytes(4).toString('hex')}_${i}`, 'password123'),
    );
    expect(await statuses(stuffing)).toEqual(Array(PER_ADDRESS).fill(401));
    expectRefused(await logIn(nat, someone.username, someone.password), 'rate_limited');
    expect((await logIn(client(), someone.username, someone.password)).status).toBe(201);
  });

  it('ignores X-Forwarded-For from a peer that is not a configured proxy (a pod at the service port)', async () => {
    // Straight to the service port from an address of its own, with a made-up client address in
    // each request: the failures all count against the real peer.
    const direct = new ApiClient(`http://127.0.0.1:${(user as StartedServiceProcess).port}`, {
      localAddress: address(),
    });
    const spoofed = Array.from(
      { length: PER_ADDRESS },
      (_, i) => () =>
        direct.request('POST', '/api/sessions', {
          body: { username: `spoof_${randomBytes(4).toString('hex')}_${i}`, password: 'x' },
          headers: {
            'x-forwarded-for': `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`,
          },
        }),
    );
    expect(await statuses(spoofed)).toEqual(Array(PER_ADDRESS).fill(401));
    const refused = await direct.request('POST', '/api/sessions', {
      body: { username: `spoof_${randomBytes(4).toString('hex')}`, password: 'x' },
      headers: { 'x-forwarded-for': '10.1.2.3' },
    });
    expectRefused(refused, 'rate_limited');
  });
});
