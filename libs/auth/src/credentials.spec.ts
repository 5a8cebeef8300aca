import type { FastifyRequest } from 'fastify';
import {
  AuthError,
  type CredentialOptions,
  extractCredential,
  isSameOriginWrite,
  sessionCookieName,
  SessionResolver,
  SessionStoreUnavailable,
} from './credentials';
import type { Session, SessionStore } from './session-store';

const TOKEN = 'a'.repeat(43);
const session = { id: 'h', userId: '7' } as unknown as Session;
const COOKIE = sessionCookieName(true);
const options: CredentialOptions = { cookieName: COOKIE, trustedOrigins: ['https://app.test'] };

const store = (answer: Session | undefined | Error) => {
  const calls: Array<{ token: string; fromCache?: boolean }> = [];
  const sessions = {
    touch: (token: string, o: { fromCache?: boolean }) => {
      calls.push({ token, fromCache: o.fromCache });
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  } as unknown as SessionStore;
  return { calls, resolver: new SessionResolver(sessions, options) };
};

const request = (headers: Record<string, string>, method = 'GET'): FastifyRequest =>
  ({ headers, method }) as unknown as FastifyRequest;

describe(SessionResolver.name, () => {
  it('asks the store once per request, however many guards ask', async () => {
    const { calls, resolver } = store(session);
    const req = request({ authorization: `Bearer ${TOKEN}` });
    const [a, b] = await Promise.all([resolver.lookUp(req), resolver.lookUp(req)]);
    await resolver.lookUp(req);
    expect(a).toBe(b);
    expect(a).toEqual({ token: TOKEN, session });
    expect(calls).toEqual([{ token: TOKEN, fromCache: true }]);
    await resolver.lookUp(request({ authorization: `Bearer ${TOKEN}` }));
    expect(calls).toHaveLength(2);
  });

  it('lets a write ask Redis, not the session cache', async () => {
    const { calls, resolver } = store(session);
    await resolver.lookUp(request({ authorization: `Bearer ${TOKEN}` }, 'POST'));
    expect(calls).toEqual([{ token: TOKEN, fromCache: false }]);
  });

  it('never throws: no token, a malformed one, an unknown one and a store down are answers', async () => {
    const none = store(undefined);
    await expect(none.resolver.lookUp(request({}))).resolves.toEqual({});
    const malformed = await none.resolver.lookUp(request({ authorization: 'Basic x' }));
    expect(malformed.error).toBeInstanceOf(AuthError);
    const short = await none.resolver.lookUp(request({ authorization: 'Bearer abc' }));
    expect(short).toMatchObject({ token: 'abc', error: { code: 'invalid_token' } });
    expect(none.calls).toHaveLength(0); // neither reached the store
    const unknown = await none.resolver.lookUp(request({ cookie: `${COOKIE}=${TOKEN}` }));
    expect(unknown).toMatchObject({ token: TOKEN, error: { code: 'invalid_token' } });
    const down = store(new Error('ETIMEDOUT'));
    const failed = await down.resolver.lookUp(request({ authorization: `Bearer ${TOKEN}` }));
    expect(failed.error).toBeInstanceOf(SessionStoreUnavailable);
    expect(failed.session).toBeUndefined();
  });

  it('refuses a cross-site write with the cookie (403) before asking the store; bearer writes and same-site ones pass', async () => {
    const { calls, resolver } = store(session);
    const cookie = `${COOKIE}=${TOKEN}`;
    const csrf = await resolver.lookUp(
      request({ cookie, origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' }, 'POST'),
    );
    expect(csrf.error).toMatchObject({ code: 'cross_site_request', kind: 'forbidden' });
    expect(calls).toHaveLength(0);
    // no Origin and no Sec-Fetch-Site: not a browser on this site, refused too
    expect((await resolver.lookUp(request({ cookie }, 'DELETE'))).error?.code).toBe(
      'cross_site_request',
    );
    const allowed: Array<Record<string, string>> = [
      { cookie, 'sec-fetch-site': 'same-origin' },
      { cookie, origin: 'http://api.test', host: 'api.test' },
      { cookie, origin: 'https://app.test' },
      { authorization: `Bearer ${TOKEN}`, origin: 'https://evil.test' },
    ];
    for (const headers of allowed) {
      expect(await resolver.lookUp(request(headers, 'POST'))).toEqual({ token: TOKEN, session });
    }
    // a read with the cookie is not a CSRF risk
    expect(await resolver.lookUp(request({ cookie, origin: 'https://evil.test' }, 'GET'))).toEqual({
      token: TOKEN,
      session,
    });
  });
});

describe(extractCredential.name, () => {
  it('reads only the configured cookie name: with Secure, a bare murmur_session is ignored', () => {
    expect(extractCredential(request({ cookie: `murmur_session=${TOKEN}` }), COOKIE)).toBe(
      undefined,
    );
    expect(extractCredential(request({ cookie: `a=1; ${COOKIE}=${TOKEN}; b=2` }), COOKIE)).toEqual({
      token: TOKEN,
      via: 'cookie',
    });
    expect(sessionCookieName(false)).toBe('murmur_session');
  });
});

describe(isSameOriginWrite.name, () => {
  it('takes the scheme the edge saw from X-Forwarded-Proto', () => {
    const headers = { origin: 'https://api.test', host: 'api.test' };
    expect(isSameOriginWrite(request(headers), [])).toBe(false);
    expect(isSameOriginWrite(request({ ...headers, 'x-forwarded-proto': 'https' }), [])).toBe(true);
    expect(isSameOriginWrite(request({ origin: 'null', host: 'api.test' }), ['null'])).toBe(false);
  });
});
