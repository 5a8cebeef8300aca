import { randomBytes } from 'node:crypto';
import { type ApiResponse, edgeApi, withPostgres, testTopology } from '@murmur/testing';

/**
 * OWASP API2:2023, account enumeration at sign-up. The attack: sign up with someone else's email
 * address and read the answer. Before the fix it was `409 email_taken` for an address that has
 * an account and 201 for one that has none, so anyone could test any address. Now an email is
 * unique only once verified (Murmur verifies none), and both answers are the same 201.
 */
const stack = edgeApi();
const t = testTopology();

const fresh = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`;
const password = () => `pw-${randomBytes(8).toString('hex')}`;
const signUp = (username: string, email: string, pw: string): Promise<ApiResponse> =>
  stack.untilAdmitted(() =>
    stack.request('POST', '/api/users', { body: { username, email, password: pw } }),
  );

describe('sign-up does not tell which emails have accounts (API2)', () => {
  it('answers an email another account already has exactly like a new one', async () => {
    const email = `${fresh('victim')}@example.test`;
    const existing = await signUp(fresh('owner'), email, password());
    expect(existing.status).toBe(201);

    const probeName = fresh('probe');
    const probePassword = password();
    const probe = await signUp(probeName, email.toUpperCase(), probePassword);
    const control = await signUp(fresh('control'), `${fresh('new')}@example.test`, password());
    for (const answer of [probe, control]) {
      expect(answer.status).toBe(201);
      expect(answer.contentType).toContain('application/json');
      expect(Object.keys(answer.body as object).sort()).toEqual(
        Object.keys(existing.body as object).sort(),
      );
    }
    // Not a decoy: the probe's account is real and usable, and the owner's is untouched.
    const login = await stack.request('POST', '/api/sessions', {
      body: { username: probeName, password: probePassword },
    });
    expect(login.status).toBe(201);
    const owners = await withPostgres(
      'pg-main-primary',
      t.database.name,
      async (c) =>
        (
          await c.query('SELECT count(*)::int AS n FROM users WHERE lower(email) = lower($1)', [
            email,
          ])
        ).rows[0] as { n: number },
    );
    expect(owners.n).toBe(2);
  });

  it('still refuses a taken username (usernames are public) with 409 username_taken', async () => {
    const username = fresh('taken');
    expect((await signUp(username, `${fresh('a')}@example.test`, password())).status).toBe(201);
    const again = await signUp(username.toUpperCase(), `${fresh('b')}@example.test`, password());
    expect(again.status).toBe(409);
    expect(again.contentType).toContain('application/problem+json');
    expect(again.body).toMatchObject({ code: 'username_taken' });
  });
});
