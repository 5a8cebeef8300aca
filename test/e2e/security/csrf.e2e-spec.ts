import { edgeApi, withPostgres, testTopology } from '@murmur/testing';

/**
 * OWASP API8:2023 (security misconfiguration): cross-site request forgery with the session
 * cookie. A page of another site can make the victim's browser send a "simple" request (a form
 * POST, or fetch without custom headers) to the API, and the browser attaches the session cookie
 * (SameSite=Lax still sends it on top-level POST navigations from some browsers, and on
 * same-site subdomains always). The attack here is exactly what such a browser sends, through the
 * stack's NGINX: a bodiless POST that follows the attacker, with the cookie, `Origin` of the
 * attacker's site and `Sec-Fetch-Site: cross-site`, and no Content-Type. Before the fix it made
 * the follow (204).
 */
const api = edgeApi();
const t = testTopology();

const follows = (follower: string, followee: string): Promise<number> =>
  withPostgres('pg-main-primary', t.database.name, async (c) =>
    Number(
      (
        await c.query(
          'SELECT count(*) AS n FROM follows WHERE follower_id = $1 AND followee_id = $2',
          [follower, followee],
        )
      ).rows[0].n,
    ),
  );

describe('CSRF: a state-changing request with the session cookie must come from this site', () => {
  it('refuses a cross-site follow with the cookie (403 problem+json) and makes no follow; the same request from the site itself, or with a bearer token, is served', async () => {
    const victim = await api.newUser('csrfv');
    const attacker = await api.newUser('csrfa');
    const login = await api.request('POST', '/api/sessions', {
      body: { username: victim.username, password: victim.password },
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    expect(cookie).toMatch(/^murmur_session=/);
    const url = `${api.baseUrl}/api/users/${attacker.id}/follow`;

    const forged = await fetch(url, {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('content-type')).toContain('application/problem+json');
    expect(await forged.json()).toMatchObject({ status: 403, code: 'cross_site_request' });
    // An old browser without Sec-Fetch-Site, and a client with neither header: refused as well.
    for (const headers of [{ cookie, origin: 'https://evil.example' }, { cookie }]) {
      expect((await fetch(url, { method: 'POST', headers })).status).toBe(403);
    }
    expect(await follows(victim.id, attacker.id)).toBe(0);

    // The site's own page (same origin), and an API client with the bearer token, from anywhere.
    const own = await fetch(url, {
      method: 'POST',
      headers: { cookie, origin: api.baseUrl, 'sec-fetch-site': 'same-origin' },
    });
    expect(own.status).toBe(204);
    expect(await follows(victim.id, attacker.id)).toBe(1);
    const unfollow = await fetch(url, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${victim.token}`, origin: 'https://evil.example' },
    });
    expect(unfollow.status).toBe(204);

    // Reads with the cookie from anywhere are not forgeries: a link to a profile still works.
    const read = await fetch(`${api.baseUrl}/api/users/me`, {
      headers: { cookie, 'sec-fetch-site': 'cross-site' },
    });
    expect(read.status).toBe(200);
  });

  it('every answer tells the browser not to sniff its type', async () => {
    for (const path of ['/api/users/1', '/api/users/me', '/api/leaderboards/posters?limit=3']) {
      const res = await fetch(`${api.baseUrl}${path}`);
      expect([path, res.headers.get('x-content-type-options')]).toEqual([path, 'nosniff']);
    }
  });
});
