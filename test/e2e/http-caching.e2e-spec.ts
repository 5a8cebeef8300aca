import { type ApiResponse, edgeApi, waitFor } from '@murmur/testing';

/**
 * HTTP caching through NGINX, as a browser or a CDN sees it: who may keep an answer
 * (Cache-Control, Vary), and a conditional GET (If-None-Match) answered 304 while the resource is
 * unchanged and 200 with a new ETag once it changed.
 */
const api = edgeApi();

const PUBLIC = 'public, max-age=5, stale-while-revalidate=30';
const header = (res: ApiResponse<unknown>, name: string): string | null => res.headers.get(name);

describe('HTTP caching: Cache-Control per resource and audience, ETags, 304', () => {
  it('a public profile: anyone may keep it, and an unchanged one revalidates as 304 with no body', async () => {
    const user = await api.newUser('etag');
    const first = await api.request<{ id: string }>('GET', `/api/users/${user.id}`);
    expect(first.status).toBe(200);
    expect(header(first, 'cache-control')).toBe(PUBLIC);
    expect(header(first, 'vary')).toMatch(/Authorization, Cookie/);
    const etag = header(first, 'etag') as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);

    const again = await api.request('GET', `/api/users/${user.id}`, {
      headers: { 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect(header(again, 'etag')).toBe(etag);
    // A list with the tag in it, weak or not, matches too.
    const listed = await api.request('GET', `/api/users/${user.id}`, {
      headers: { 'if-none-match': `"stale", W/${etag}` },
    });
    expect(listed.status).toBe(304);
  });

  it('after a write the owner (revalidating every time) gets 200 and a new ETag at once', async () => {
    const user = await api.newUser('etagw');
    const mine = await api.request('GET', `/api/users/${user.id}`, { token: user.token });
    // With credentials: they may have just written it, so no one keeps it for them.
    expect(header(mine, 'cache-control')).toBe('private, no-cache');
    const before = header(mine, 'etag') as string;
    const patch = await api.request('PATCH', '/api/users/me', {
      token: user.token,
      body: { bio: 'changed' },
    });
    expect(patch.status).toBe(200);
    const after = await api.request<{ bio: string }>('GET', `/api/users/${user.id}`, {
      token: user.token,
      headers: { 'if-none-match': before },
    });
    expect(after.status).toBe(200);
    expect(after.body.bio).toBe('changed');
    expect(header(after, 'etag')).not.toBe(before);
    // Everyone else sees the change too once their cached copy is revalidated.
    await waitFor(
      async () => {
        const res = await api.request('GET', `/api/users/${user.id}`, {
          headers: { 'if-none-match': before },
        });
        return res.status === 200 ? res : undefined;
      },
      { timeoutMs: 10_000, what: 'an anonymous revalidation to see the change' },
    );
  });

  it('a post and an author page are public; a like changes the post’s ETag', async () => {
    const author = await api.newUser('etagp');
    const liker = await api.newUser('etagl');
    const created = await api.request<{ id: string }>('POST', '/api/posts', {
      token: author.token,
      body: { text: 'cache me' },
    });
    expect(created.status).toBe(201);
    const post = await api.request('GET', `/api/posts/${created.body.id}`);
    expect(post.status).toBe(200);
    expect(header(post, 'cache-control')).toBe(PUBLIC);
    const page = await api.request('GET', `/api/posts?author=${author.id}`);
    expect(header(page, 'cache-control')).toBe(PUBLIC);
    expect(header(page, 'etag')).toMatch(/^"/);

    const etag = header(post, 'etag') as string;
    const like = await api.request('PUT', `/api/posts/${created.body.id}/like`, {
      token: liker.token,
    });
    expect(like.status).toBe(200);
    expect(header(like, 'cache-control')).toBe('no-store');
    await waitFor(
      async () => {
        const res = await api.request<{ likeCount: number }>(
          'GET',
          `/api/posts/${created.body.id}`,
          { headers: { 'if-none-match': etag } },
        );
        return res.status === 200 && res.body.likeCount === 1 ? res : undefined;
      },
      { timeoutMs: 10_000, what: 'the liked post to be a new representation' },
    );
  });

  it('a board is public; a feed page is the caller’s own and revalidates as 304', async () => {
    const board = await api.request('GET', '/api/leaderboards/posters?limit=5');
    expect(board.status).toBe(200);
    expect(header(board, 'cache-control')).toBe(PUBLIC);

    const reader = await api.newUser('etagf');
    const feed = await api.request('GET', '/api/feed?limit=5', { token: reader.token });
    expect(feed.status).toBe(200);
    expect(header(feed, 'cache-control')).toBe('private, no-cache');
    expect(header(feed, 'vary')).toMatch(/Authorization/);
    const again = await api.request('GET', '/api/feed?limit=5', {
      token: reader.token,
      headers: { 'if-none-match': header(feed, 'etag') as string },
    });
    expect(again.status).toBe(304);
  });

  it('personal data, writes and errors are no-store and carry no ETag', async () => {
    const user = await api.newUser('etagn');
    const answers = await Promise.all([
      api.request('GET', '/api/users/me', { token: user.token }),
      api.request('GET', '/api/users/4611686018427387904'),
      api.request('GET', '/api/users/not-an-id'),
      api.request('GET', '/api/feed'),
      api.request('POST', '/api/posts', { token: user.token, body: { text: 'x' } }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 404, 400, 401, 201]);
    for (const a of answers) {
      expect({ control: header(a, 'cache-control'), etag: header(a, 'etag') }).toEqual({
        control: 'no-store',
        etag: null,
      });
    }
    // A conditional GET of personal data is answered in full, never 304.
    const me = await api.request('GET', '/api/users/me', {
      token: user.token,
      headers: { 'if-none-match': '*' },
    });
    expect(me.status).toBe(200);
  });
});
