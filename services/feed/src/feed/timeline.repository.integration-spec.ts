import { DERIVED_KEYS, type FanoutJob, QUEUES, TIMELINE_SENTINEL } from '@murmur/contracts';
import { InMemoryJobQueue } from '@murmur/queue';
import { testTopology } from '@murmur/testing';
import { Redis } from 'ioredis';
import { FanoutRepository } from '../fanout/fanout.repository';
import { type FanoutRun, FanoutService } from '../fanout/fanout.service';
import { FaninRepository } from './fanin.repository';
import { authoredKey, followingKey, timelineKey } from './feed-keys';
import type { TimelineEntry } from './feed-page';
import { FeedError, FeedErrorCode } from './feed.errors';
import { TimelineRepository, type TimelineReadOptions } from './timeline.repository';

/** a database of the test stack's data Redis that no stack process uses */
const REDIS_DB = 9;
const TIMELINE_MAX = 50;

/**
 * Materialised timelines against a real Redis: fan-out writes only into timelines that exist, a
 * read merges a missing one (equal to the fan-in page), a read keeps it alive, an unread one
 * expires and comes back complete on the next read, and no merge happens while the derived
 * state is incomplete.
 */
describe(`${TimelineRepository.name}: timelines materialised on read (real Redis)`, () => {
  const redis = new Redis({
    port: testTopology().redis.find((r) => r.purpose === 'queue')?.port,
    host: '127.0.0.1',
    db: REDIS_DB,
  });
  const noChunks = new InMemoryJobQueue(QUEUES.feed);
  noChunks.failing = new Error('no chunk jobs expected');
  const worker = new FanoutService(new FanoutRepository(redis), noChunks, {
    timelineMax: TIMELINE_MAX,
    fanoutOnWrite: true,
    chunkSize: 1_000,
  });
  const run = (job: FanoutJob): FanoutRun => ({
    id: `fanout-${job.postId}`,
    progress: undefined,
    saveProgress: () => Promise.resolve(),
  });
  const options: TimelineReadOptions = {
    timelineMax: TIMELINE_MAX,
    idleTtlSeconds: 600,
    maxFollowees: 1_000,
  };
  const timelines = (o: Partial<TimelineReadOptions> = {}) =>
    new TimelineRepository(redis, { ...options, ...o });
  const fanin = (maxFollowees = 1_000) => new FaninRepository(redis, maxFollowees);

  let nextId = 1_000_000n;
  let clock = 1_800_000_000_000;
  const post = async (authorId: string): Promise<FanoutJob & { delivered: number }> => {
    nextId += 7n;
    clock += 1_000;
    const job = { postId: String(nextId), authorId, createdAt: clock };
    const { delivered } = await worker.fanout(job, run(job));
    return { ...job, delivered };
  };
  const ids = (entries: TimelineEntry[]): string[] => entries.map((e) => e.postId);

  beforeEach(async () => {
    await redis.flushdb();
    await redis.set(DERIVED_KEYS.marker, JSON.stringify({ by: 'empty', at: '' }));
  });

  afterAll(async () => {
    await redis.flushdb();
    redis.disconnect();
  });

  it('pushes nothing into a timeline nobody has read; the first read merges it', async () => {
    await worker.follow({ followerId: '10', followeeId: '20' });
    await worker.follow({ followerId: '10', followeeId: '30' });
    const first = await post('20');
    const second = await post('30');
    const own = await post('10');
    expect([first.delivered, second.delivered]).toEqual([0, 0]);
    await expect(redis.exists(timelineKey('10'))).resolves.toBe(0);

    const page = await timelines().page('10', 10);
    expect(ids(page)).toEqual([own.postId, second.postId, first.postId]);
    expect(page).toEqual(await fanin().page('10', 10));
    // From now on the fan-out writes into it.
    const next = await post('20');
    expect(next.delivered).toBe(1);
    await expect(redis.zscore(timelineKey('10'), next.postId)).resolves.toBe(
      String(next.createdAt),
    );
    expect(ids(await timelines().page('10', 2))).toEqual([next.postId, own.postId]);
  });

  it('keeps an empty timeline alive with a sentinel that no page shows', async () => {
    await expect(timelines().page('11', 10)).resolves.toEqual([]);
    await expect(redis.zrange(timelineKey('11'), 0, -1)).resolves.toEqual([TIMELINE_SENTINEL]);
    await worker.follow({ followerId: '11', followeeId: '21' });
    const p = await post('21');
    // the follow backfilled nothing (no posts yet), the push reached the materialised timeline
    expect(p.delivered).toBe(1);
    expect(ids(await timelines().page('11', 10))).toEqual([p.postId]);
  });

  it('refreshes the expiry on every read; an unread timeline expires and comes back whole', async () => {
    await worker.follow({ followerId: '12', followeeId: '22' });
    const before = await post('22');
    const short = timelines({ idleTtlSeconds: 1 });
    expect(ids(await short.page('12', 10))).toEqual([before.postId]);
    expect(await redis.pttl(timelineKey('12'))).toBeGreaterThan(500);
    await new Promise((r) => setTimeout(r, 600));
    await short.page('12', 10); // read again: the count starts again
    expect(await redis.pttl(timelineKey('12'))).toBeGreaterThan(900);

    await new Promise((r) => setTimeout(r, 1_200));
    await expect(redis.exists(timelineKey('12'))).resolves.toBe(0);
    // While it is gone, fan-out and a follow's backfill pass it over…
    const whileIdle = await post('22');
    expect(whileIdle.delivered).toBe(0);
    await worker.follow({ followerId: '12', followeeId: '32' });
    const other = await post('32');
    await expect(redis.exists(timelineKey('12'))).resolves.toBe(0);
    // …and the next read has every one of them.
    expect(ids(await short.page('12', 10))).toEqual([
      other.postId,
      whileIdle.postId,
      before.postId,
    ]);
    // TIMELINE_IDLE_TTL_SECONDS=0: a materialised timeline never expires.
    await timelines({ idleTtlSeconds: 0 }).page('13', 10);
    await expect(redis.ttl(timelineKey('13'))).resolves.toBe(-1);
  });

  it('merges the newest TIMELINE_MAX, from the same followees as fan-in, with the same pages', async () => {
    const reader = '14';
    const followees = ['41', '42', '43', '44', '45'];
    for (const f of followees) {
      await worker.follow({ followerId: reader, followeeId: f });
    }
    for (let i = 0; i < 3 * TIMELINE_MAX; i++) {
      await post(followees[i % followees.length]);
    }
    // Past the bound on followees, both read the first ones SSCAN returns (an intset: lowest).
    const bounded = timelines({ maxFollowees: 2 });
    const pages = async (source: TimelineRepository | FaninRepository, limit: number) => {
      const all: TimelineEntry[][] = [];
      let cursor: TimelineEntry | undefined;
      do {
        const page = await source.page(reader, limit, cursor);
        all.push(page);
        cursor = page.length === limit ? page.at(-1) : undefined;
      } while (cursor !== undefined && all.length < 100);
      return all;
    };
    const merged = await pages(bounded, 7);
    expect(merged.flat()).toHaveLength(TIMELINE_MAX);
    // fan-in merges every page from the lists, so it goes past the timeline's bound
    const fromLists = (await pages(fanin(2), 7)).flat();
    expect(merged.flat()).toEqual(fromLists.slice(0, TIMELINE_MAX));
    await expect(redis.zcard(timelineKey(reader))).resolves.toBe(TIMELINE_MAX);
    const authors = new Set(
      await Promise.all(
        (await redis.zrange(timelineKey(reader), 0, -1)).map(
          async (id) => (await authorOf(id)) ?? '',
        ),
      ),
    );
    expect([...authors].sort()).toEqual(['41', '42']);
  });

  it('merges nothing while the derived state is incomplete: the reader is told to retry', async () => {
    await worker.follow({ followerId: '15', followeeId: '25' });
    await post('25');
    await redis.del(DERIVED_KEYS.marker);
    const refused = await timelines()
      .page('15', 10)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refused).toBeInstanceOf(FeedError);
    expect(refused).toMatchObject({ code: FeedErrorCode.Rebuilding, retryAfterSeconds: 2 });
    await expect(redis.exists(timelineKey('15'))).resolves.toBe(0);
  });

  it('drops an unfollowed author at once, materialised or not', async () => {
    await worker.follow({ followerId: '16', followeeId: '26' });
    await worker.follow({ followerId: '16', followeeId: '36' });
    const kept = await post('36');
    await post('26');
    await worker.unfollow({ followerId: '16', followeeId: '26' });
    expect(ids(await timelines().page('16', 10))).toEqual([kept.postId]);
    await worker.follow({ followerId: '16', followeeId: '26' });
    await worker.unfollow({ followerId: '16', followeeId: '26' });
    expect(ids(await timelines().page('16', 10))).toEqual([kept.postId]);
    await expect(redis.smembers(followingKey('16'))).resolves.toEqual(['36']);
  });

  it('pages through posts that share one millisecond without losing or repeating one, in both modes', async () => {
    await worker.follow({ followerId: '17', followeeId: '27' });
    await worker.follow({ followerId: '17', followeeId: '37' });
    await timelines().page('17', 1); // materialise it, so fan-out writes into it
    // 40 posts in one ms, ids across a power of ten (Redis orders equal scores by member bytes,
    // so '999999' sorts after '1000000' there: the page must not depend on that order).
    const createdAt = clock + 1_000;
    const posted: string[] = [];
    for (let i = 0; i < 40; i++) {
      const job = { postId: String(999_980 + i), authorId: i % 2 === 0 ? '27' : '37', createdAt };
      await worker.fanout(job, run(job));
      posted.push(job.postId);
    }
    const expected = posted.sort((a, b) => Number(b) - Number(a));
    for (const source of [timelines(), fanin()]) {
      for (const limit of [1, 3, 7]) {
        const seen: string[] = [];
        let cursor: TimelineEntry | undefined;
        for (let pages = 0; pages < 100; pages++) {
          const page = await source.page('17', limit, cursor);
          seen.push(...ids(page));
          if (page.length < limit) {
            break;
          }
          cursor = page[page.length - 1];
        }
        expect(seen).toEqual(expected);
      }
    }
  });

  /** Which author a post id of this spec belongs to (from the authored lists). */
  async function authorOf(postId: string): Promise<string | undefined> {
    for (const a of ['41', '42', '43', '44', '45']) {
      if ((await redis.zscore(authoredKey(a), postId)) !== null) {
        return a;
      }
    }
    return undefined;
  }
});
