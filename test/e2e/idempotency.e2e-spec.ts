import { randomUUID } from 'node:crypto';
import { edgeApi, waitFor } from '@murmur/testing';

const api = edgeApi();

interface PostBody {
  id: string;
  text: string;
}

describe('Idempotency-Key on POST /api/posts', () => {
  const create = (token: string, text: string, key?: string) =>
    api.request<PostBody & { code?: string }>('POST', '/api/posts', {
      token,
      body: { text },
      headers: key === undefined ? {} : { 'idempotency-key': key },
    });

  it('answers a retry with the first post, however many arrive at once, and counts it once', async () => {
    const me = await api.newUser('idem');
    const key = randomUUID();
    const first = await create(me.token, 'only once', key);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotency-replayed')).toBeNull();

    const retry = await create(me.token, 'only once', key);
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.headers.get('idempotency-replayed')).toBe('true');

    // A burst of the same request (a client that retried on every timeout), through NGINX.
    const key2 = randomUUID();
    const burst = await Promise.all(
      Array.from({ length: 12 }, () => create(me.token, 'a burst of retries', key2)),
    );
    expect(burst.map((r) => r.status)).toEqual(Array(12).fill(201));
    expect(new Set(burst.map((r) => r.body.id)).size).toBe(1);

    // Two posts in the author's list, and 2 points on the board: the replays created nothing.
    const mine = await waitFor(
      async () => {
        const res = await api.request<{ items: PostBody[] }>(
          'GET',
          `/api/posts?author=${me.id}&limit=20`,
          { headers: { 'cache-control': 'no-cache' } },
        );
        return res.body.items.length >= 2 ? res.body.items : undefined;
      },
      { timeoutMs: 5_000, what: "the author's two posts" },
    );
    expect(mine.map((p) => p.text).sort()).toEqual(['a burst of retries', 'only once']);
    await waitFor(async () => ((await api.posterScore(me.id)) === 2 ? true : undefined), {
      timeoutMs: 5_000,
      what: 'the author on the posters board with 2 points',
    });
  });

  it('refuses the same key with a different text (422), and scopes keys to their author', async () => {
    const me = await api.newUser('idem2');
    const other = await api.newUser('idem3');
    const key = randomUUID();
    expect((await create(me.token, 'first text', key)).status).toBe(201);
    const reused = await create(me.token, 'another text', key);
    expect(reused.status).toBe(422);
    expect(reused.contentType).toContain('application/problem+json');
    expect(reused.body.code).toBe('idempotency_key_reused');
    // Someone else's request with the same key is a different request.
    const theirs = await create(other.token, 'first text', key);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotency-replayed')).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['with spaces', 'two words'],
    ['non-ASCII', 'clé'],
  ])('answers 400 for a malformed key (%s), creating nothing', async (_what, key) => {
    const me = await api.newUser('idem4');
    const res = await api.request<{ code: string }>('POST', '/api/posts', {
      token: me.token,
      body: { text: 'never stored' },
      headers: { 'idempotency-key': key },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_idempotency_key');
    const mine = await api.request<{ items: PostBody[] }>(
      'GET',
      `/api/posts?author=${me.id}&limit=20`,
      { headers: { 'cache-control': 'no-cache' } },
    );
    expect(mine.body.items).toEqual([]);
  });
});
