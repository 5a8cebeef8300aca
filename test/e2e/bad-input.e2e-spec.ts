import { ApiClient, edgeApi, testTopology } from '@murmur/testing';

const api = edgeApi();

describe('bad input gets a 4xx problem+json, never a 500', () => {
  let token: string;

  beforeAll(async () => {
    token = (await api.newUser('bad')).token;
  });

  const expectProblem = (
    res: { status: number; contentType: string; body: unknown },
    status: number,
  ): void => {
    expect(res.status).toBe(status);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body).toMatchObject({
      status,
      type: expect.stringMatching(/^urn:murmur:problem:/),
      title: expect.any(String),
    });
  };

  it.each([
    ['malformed JSON', { rawBody: '{"username": "x",' }],
    ['a JSON array instead of an object', { rawBody: '[]' }],
    ['a missing field', { body: { username: 'someone_ok', password: 'long-enough-1' } }],
    [
      'an unknown field',
      {
        body: { username: 'someone_ok', email: 'a@b.test', password: 'long-enough-1', admin: true },
      },
    ],
    ['a wrong type', { body: { username: 42, email: 'a@b.test', password: 'long-enough-1' } }],
    [
      'an over-long string',
      { body: { username: 'x'.repeat(31), email: 'a@b.test', password: 'long-enough-1' } },
    ],
    [
      'an over-long password',
      { body: { username: 'someone_ok', email: 'a@b.test', password: 'p'.repeat(129) } },
    ],
    [
      'a bad email',
      { body: { username: 'someone_ok', email: 'not-an-email', password: 'long-enough-1' } },
    ],
  ])('sign-up with %s → 400', async (_name, options) => {
    expectProblem(await api.request('POST', '/api/users', options), 400);
  });

  it('lists the failing fields of a validation error', async () => {
    const res = await api.request<{ errors: string[] }>('POST', '/api/users', {
      body: { username: '!', email: 'x', password: 'short' },
    });
    expectProblem(res, 400);
    expect(res.body.errors.join(' ')).toMatch(/username[\s\S]*email[\s\S]*password/);
  });

  it('refuses bodies over the size limit with 413 at the edge', async () => {
    const res = await api.request('POST', '/api/posts', {
      token,
      rawBody: JSON.stringify({ text: 'x'.repeat(100_000) }),
    });
    expectProblem(res, 413);
  });

  it('refuses bodies over the size limit with 413 in the service itself (past the edge)', async () => {
    // The edge never lets such a body through: send it to each post process directly.
    const posts = testTopology().services.filter((s) => s.service === 'post' && s.entry === 'main');
    expect(posts.length).toBeGreaterThan(0);
    for (const p of posts) {
      const res = await new ApiClient(`http://127.0.0.1:${p.port}`).request('POST', '/api/posts', {
        token,
        rawBody: JSON.stringify({ text: 'x'.repeat(100_000) }),
      });
      expectProblem(res, 413);
      expect(res.body).toMatchObject({ status: 413 });
    }
  });

  it.each([
    ['blank text', { text: '   ' }],
    ['empty text', { text: '' }],
    ['text over 500 characters', { text: 'x'.repeat(501) }],
    ['text of the wrong type', { text: ['a'] }],
  ])('a post with %s → 400', async (_name, body) => {
    expectProblem(await api.request('POST', '/api/posts', { token, body }), 400);
  });

  it.each(['abc', '0', '-5', '1.5', '99999999999999999999', '1e5'])(
    'a bad post id %s → 400',
    async (id) => {
      expectProblem(await api.request('GET', `/api/posts/${id}`), 400);
    },
  );

  it.each(['abc', '0', '99999999999999999999', '9999999999999999999', '9223372036854775808'])(
    'a bad user id %s → 400',
    async (id) => {
      expectProblem(await api.request('GET', `/api/users/${id}`), 400);
    },
  );

  // 19 digits pass a digits-only pattern but exceed int8: they must stop at validation, not
  // reach Postgres (which answered 500 for them).
  it.each([
    ['a post id', 'GET', '/api/posts/9999999999999999999'],
    ['an author', 'GET', '/api/posts?author=9999999999999999999'],
    ['a page cursor', 'GET', '/api/posts?author=1&before=9223372036854775808'],
    ['a like of a post', 'PUT', '/api/posts/9999999999999999999/like'],
    ['a follow of a user', 'POST', '/api/users/9999999999999999999/follow'],
  ])('%s past the int8 range → 400', async (_name, method, url) => {
    expectProblem(await api.request(method, url, { token }), 400);
  });

  it.each(['/api/posts/%ff%fe', '/api/users/%E0%A4%A', '/api/posts/%'])(
    'a path with broken percent-encoding (%s) → 400 problem+json, not the framework’s own JSON',
    async (url) => {
      const res = await api.request('GET', url);
      expect(res.status).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
    },
  );

  it('refuses a body that is not JSON with 415 problem+json', async () => {
    const res = await api.request('POST', '/api/posts', {
      token,
      rawBody: 'text=hello',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectProblem(res, 415);
  });

  it('treats an empty body sent as application/json as no body (what k6 and many clients send)', async () => {
    const other = await api.newUser('emptybody');
    const post = await api.request<{ id: string }>('POST', '/api/posts', {
      token: other.token,
      body: { text: 'like me with no body' },
    });
    expect(post.status).toBe(201);
    // rawBody '' with the JSON content type: exactly what k6's http.post(url, null, params) sends
    const empty = { token, rawBody: '', headers: { 'content-type': 'application/json' } };
    expect((await api.request('POST', `/api/users/${other.id}/follow`, empty)).status).toBe(204);
    expect((await api.request('DELETE', `/api/users/${other.id}/follow`, empty)).status).toBe(204);
    expect((await api.request('PUT', `/api/posts/${post.body.id}/like`, empty)).status).toBe(200);
    expect((await api.request('DELETE', `/api/posts/${post.body.id}/like`, empty)).status).toBe(
      200,
    );
    // …while a route that needs a body still says what is missing
    expectProblem(await api.request('POST', '/api/posts', empty), 400);
  });

  it.each(['limit=0', 'limit=101', 'limit=abc', 'cursor=%25%25%25', 'cursor=AAAA', 'extra=1'])(
    'a bad feed query %s → 400',
    async (q) => {
      expectProblem(await api.request('GET', `/api/feed?${q}`, { token }), 400);
    },
  );

  it('answers 404 for unknown resources', async () => {
    expectProblem(await api.request('GET', '/api/posts/1234567890123'), 404);
    expectProblem(await api.request('GET', '/api/users/987654321'), 404);
    expectProblem(await api.request('GET', '/api/leaderboards/nope'), 404);
    expectProblem(await api.request('POST', '/api/users/987654321/follow', { token }), 404);
    expectProblem(await api.request('GET', '/api/nothing-here'), 404);
  });

  it('answers 401 without a token, with a malformed one and with an unknown one', async () => {
    expectProblem(await api.request('POST', '/api/posts', { body: { text: 'hi' } }), 401);
    expectProblem(
      await api.request('POST', '/api/posts', {
        body: { text: 'hi' },
        headers: { authorization: 'Basic abc' },
      }),
      401,
    );
    expectProblem(
      await api.request('POST', '/api/posts', { body: { text: 'hi' }, token: 'short' }),
      401,
    );
    expectProblem(
      await api.request('POST', '/api/posts', { body: { text: 'hi' }, token: 'A'.repeat(43) }),
      401,
    );
    expectProblem(await api.request('GET', '/api/feed'), 401);
  });

  it('refuses to follow yourself', async () => {
    const me = await api.newUser('self');
    expectProblem(
      await api.request('POST', `/api/users/${me.id}/follow`, { token: me.token }),
      400,
    );
  });
});
