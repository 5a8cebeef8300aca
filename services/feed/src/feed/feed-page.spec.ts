import { fromWithScores, mergeNewest, newestFirst, pageOf, type TimelineEntry } from './feed-page';

const e = (score: number, postId: string | number): TimelineEntry => ({
  score,
  postId: String(postId),
});

/** A sorted set's order under ZRANGE … REV: score, then member bytes (not post id), descending. */
const redisOrder = (a: TimelineEntry, b: TimelineEntry): number =>
  a.score !== b.score ? b.score - a.score : a.postId < b.postId ? 1 : a.postId > b.postId ? -1 : 0;

/** What PAGE_CANDIDATES (timeline-scripts.ts) answers for one sorted set, in Redis's order. */
const read = (set: readonly TimelineEntry[], limit: number, cursor?: TimelineEntry) => {
  const sorted = [...set].sort(redisOrder);
  const at = (score: number) => sorted.filter((x) => x.score === score);
  const tie = cursor === undefined ? [] : at(cursor.score);
  const older = sorted
    .filter((x) => cursor === undefined || x.score < cursor.score)
    .slice(0, limit);
  const edge = older.length === limit ? at(older[older.length - 1].score) : [];
  return [...tie, ...older, ...edge];
};

/** Every post id, page by page with the cursor, through `pageOf` over `lists` read by `read`. */
const walk = (lists: readonly TimelineEntry[][], limit: number): string[] => {
  const seen: string[] = [];
  let cursor: TimelineEntry | undefined;
  for (let pages = 0; pages < 1_000; pages++) {
    const page = pageOf(
      lists.map((list) => read(list, limit, cursor)),
      limit,
      cursor,
    );
    seen.push(...page.map((x) => x.postId));
    if (page.length < limit) {
      break;
    }
    cursor = page[page.length - 1];
  }
  return seen;
};

describe('pageOf', () => {
  it('orders newest first and breaks ties on the same ms by post id, across lists', () => {
    const a = [e(2000, 31), e(1000, 12), e(1000, 10)];
    const b = [e(2000, 33), e(1000, 11), e(500, 9)];
    expect(pageOf([a, b], 10)).toEqual([
      e(2000, 33),
      e(2000, 31),
      e(1000, 12),
      e(1000, 11),
      e(1000, 10),
      e(500, 9),
    ]);
  });

  it('compares ids as numbers, not as strings', () => {
    expect(pageOf([[e(7, '99')], [e(7, '100')]], 5).map((x) => x.postId)).toEqual(['100', '99']);
  });

  it('keeps at most limit entries', () => {
    const lists = [1, 2, 3].map((author) =>
      Array.from({ length: 10 }, (_, i) => e(10_000 - i * 10 - author, author * 100 + i)),
    );
    const page = pageOf(lists, 4);
    expect(page).toHaveLength(4);
    expect(page.map((x) => x.postId)).toEqual(['100', '200', '300', '101']);
  });

  it('leaves out the cursor entry and everything before it, also inside the same ms', () => {
    const a = [e(1000, 14), e(1000, 12), e(900, 8)];
    const b = [e(1000, 13), e(1000, 11), e(800, 7)];
    const page = pageOf([a, b], 10, e(1000, 13));
    expect(page).toEqual([e(1000, 12), e(1000, 11), e(900, 8), e(800, 7)]);
  });

  it('never repeats a post that two lists both hold', () => {
    expect(pageOf([[e(5, 1), e(4, 2)], [e(5, 1)]], 10)).toEqual([e(5, 1), e(4, 2)]);
  });

  it('sorts a list that arrives out of order (ZRANGE ties are by string)', () => {
    expect(pageOf([[e(5, '9'), e(5, '10'), e(6, '1')]], 10).map((x) => x.postId)).toEqual([
      '1',
      '10',
      '9',
    ]);
  });

  it('returns nothing for no lists or empty lists', () => {
    expect(pageOf([], 10)).toEqual([]);
    expect(pageOf([[], []], 10, e(5, 5))).toEqual([]);
  });

  it('loses no post when many share one ms, whatever the page size, in either mode', () => {
    // 40 posts in one ms, ids across a power of ten (Redis sorts '999' after '1000'): the old
    // fixed window (limit + 32 per set) never returned 7 of them at limit 1.
    const crowded = Array.from({ length: 40 }, (_, i) => e(1000, 980 + i));
    const byAuthor = [crowded.filter((_, i) => i % 2 === 0), crowded.filter((_, i) => i % 2 === 1)];
    const all = [...crowded].sort(newestFirst).map((x) => x.postId);
    for (const limit of [1, 2, 5, 39, 40, 41]) {
      expect(walk([crowded], limit)).toEqual(all);
      expect(walk(byAuthor, limit)).toEqual(all);
    }
  });

  it('pages merged per author exactly like one timeline holding every post', () => {
    // A seeded generator: the same cases every run, many ties on the same ms.
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 50; round++) {
      const authors = 1 + Math.floor(random() * 8);
      const byAuthor: TimelineEntry[][] = Array.from({ length: authors }, () => []);
      let nextId = 1_000;
      for (let i = 0; i < 200; i++) {
        byAuthor[Math.floor(random() * authors)].push(e(1_000 + Math.floor(random() * 40), nextId));
        nextId += 1 + Math.floor(random() * 3);
      }
      const timeline = byAuthor.flat();
      const limit = 1 + Math.floor(random() * 25);
      let cursor: TimelineEntry | undefined;
      const seen: string[] = [];
      for (let pages = 0; pages < 1_000; pages++) {
        const fanOut = pageOf([read(timeline, limit, cursor)], limit, cursor);
        const fanIn = pageOf(
          byAuthor.map((list) => read(list, limit, cursor)),
          limit,
          cursor,
        );
        expect(fanIn).toEqual(fanOut);
        seen.push(...fanIn.map((x) => x.postId));
        if (fanIn.length < limit) {
          break;
        }
        cursor = fanIn[fanIn.length - 1];
      }
      // Paging by cursor walks every post once, newest first.
      expect(seen).toEqual([...timeline].sort(newestFirst).map((x) => x.postId));
    }
  });
});

describe('mergeNewest', () => {
  it('stops after count entries', () => {
    const lists = [
      [e(9, 9), e(7, 7), e(5, 5)],
      [e(8, 8), e(6, 6)],
    ];
    expect(mergeNewest(lists, 3)).toEqual([e(9, 9), e(8, 8), e(7, 7)]);
    expect(mergeNewest(lists, 99)).toHaveLength(5);
  });
});

describe('fromWithScores', () => {
  it('reads a ZRANGE … WITHSCORES reply', () => {
    expect(fromWithScores(['11', '1700000000001', '10', '1700000000000'])).toEqual([
      e(1_700_000_000_001, 11),
      e(1_700_000_000_000, 10),
    ]);
  });
});
