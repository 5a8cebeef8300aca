import { randomInt } from 'node:crypto';
import { edgeApi, testTopology, waitFor } from '@murmur/testing';
import { Redis } from 'ioredis';

/**
 * OWASP API4:2023 (unrestricted resource consumption): a caller must not choose how many cache
 * entries and tag members a read creates. The attack, through NGINX: an author's page asked with
 * 50 limits and 100 made-up cursors, and the first pages of 100 made-up authors. Before the fix
 * each distinct `author × before × limit` was an entry of the `author-posts` cache (an empty page
 * for an unknown author too), every one a member of the author's tag set, so a client could fill
 * the cache Redis with keys that evict hot entries, and make the author's next post drain a tag
 * set as large as it liked. Now one entry per author with posts (the first page, sliced to any
 * limit), at most one member per tag set, and nothing for authors without posts; the answers are
 * the same.
 */
const api = edgeApi();
const NAMESPACE = 'cache:author-posts:';
const TAG = (author: string) => `cache-tag:author-posts:author:${author}`;

type Page = { items: Array<{ id: string; text: string }>; nextCursor: string | null };

/** Every key of the cache Redis that starts with `prefix` (SCAN, not KEYS). */
async function keysStartingWith(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found;
}

describe('author pages in the cache (API4: cache keys are not the caller’s to choose)', () => {
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(
      testTopology().redis.find((r) => r.purpose === 'cache')?.port ?? 0,
      '127.0.0.1',
    );
  });

  afterAll(async () => {
    await redis?.quit();
  });

  const read = async (query: string): Promise<Page> => {
    const res = await api.untilAdmitted(() => api.request<Page>('GET', `/api/posts?${query}`));
    expect([query, res.status]).toEqual([query, 200]);
    return res.body;
  };

  it('keeps one entry and one tag member per author however many limits and cursors are asked', async () => {
    const author = await api.newUser('author');
    const ids: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      const res = await api.request<{ id: string }>('POST', '/api/posts', {
        token: author.token,
        body: { text },
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const newest = [...ids].reverse();
    // The first page shows all three (a read right after a post may skip the cache: the tag's
    // grace), then the attack: every limit, and cursors no page ever handed out.
    await waitFor(
      async () => ((await read(`author=${author.id}`)).items.length === 3 ? true : undefined),
      { timeoutMs: 3_000, what: 'the first page' },
    );
    await new Promise((done) => setTimeout(done, 1_200));
    for (let limit = 1; limit <= 50; limit++) {
      const page = await read(`author=${author.id}&limit=${limit}`);
      expect(page.items.map((p) => p.id)).toEqual(newest.slice(0, limit));
      expect(page.nextCursor).toBe(limit < 3 ? newest[limit - 1] : null);
    }
    for (let i = 0; i < 100; i++) {
      const before = String(BigInt(ids[0]) + BigInt(randomInt(1, 2 ** 40)));
      const page = await read(`author=${author.id}&before=${before}&limit=${1 + (i % 50)}`);
      expect(page.items.length).toBeLessThanOrEqual(3);
    }
    // A real cursor still pages correctly.
    const second = await read(`author=${author.id}&limit=2&before=${newest[1]}`);
    expect(second.items.map((p) => p.id)).toEqual([newest[2]]);

    const entries = await keysStartingWith(redis, `${NAMESPACE}${author.id}:`);
    expect(entries.length).toBeLessThanOrEqual(1);
    expect(await redis.scard(TAG(author.id))).toBeLessThanOrEqual(1);

    // The next post still replaces the cached page, for every limit.
    const fourth = await api.request<{ id: string }>('POST', '/api/posts', {
      token: author.token,
      body: { text: 'four' },
    });
    for (const limit of [1, 20, 50]) {
      await waitFor(
        async () =>
          (await read(`author=${author.id}&limit=${limit}`)).items[0]?.id === fourth.body.id
            ? true
            : undefined,
        { timeoutMs: 3_000, what: `the new post on the first page, limit ${limit}` },
      );
    }
  });

  it('caches nothing for authors without posts: made-up author ids leave no entry and no tag set', async () => {
    const authors = Array.from({ length: 100 }, () =>
      String(BigInt(randomInt(1, 2 ** 47)) * 1000n + 7n),
    );
    for (const author of authors) {
      const page = await read(`author=${author}&limit=${randomInt(1, 51)}`);
      expect(page).toEqual({ items: [], nextCursor: null });
    }
    const left = [];
    for (const author of authors) {
      left.push(...(await keysStartingWith(redis, `${NAMESPACE}${author}:`)));
      if ((await redis.exists(TAG(author))) === 1) {
        left.push(TAG(author));
      }
    }
    expect(left).toEqual([]);
  });
});
