import type { GrpcPost } from '@murmur/contracts';
import { FALLBACK_TTL_MS, HydratedPosts } from './hydrated-posts';

const post = (id: string, likeCount = 0): GrpcPost => ({
  id,
  authorId: '1',
  text: `post ${id}`,
  createdAt: '2026-12-06T00:00:00.000Z',
  likeCount,
});

describe(HydratedPosts.name, () => {
  let clock: number;
  beforeEach(() => {
    clock = 5_000_000;
  });

  it('answers fresh posts by id until their TTL, then lists them as missing', () => {
    const sut = new HydratedPosts({ freshMs: 1_000, now: () => clock });
    sut.remember([post('1'), post('2')]);
    clock += 999;
    const { found, missing } = sut.fresh(['2', '3', '1']);
    expect([...found.keys()]).toEqual(['2', '1']);
    expect(missing).toEqual(['3']);
    clock += 1;
    expect(sut.fresh(['1', '2']).missing).toEqual(['1', '2']);
  });

  it('restarts a post’s freshness when it is hydrated again', () => {
    const sut = new HydratedPosts({ freshMs: 1_000, now: () => clock });
    sut.remember([post('1', 1)]);
    clock += 900;
    sut.remember([post('1', 2)]);
    clock += 900;
    expect(sut.fresh(['1']).found.get('1')?.likeCount).toBe(2);
  });

  it('never answers fresh with a TTL of 0, but keeps the posts as the fallback', () => {
    const sut = new HydratedPosts({ freshMs: 0, now: () => clock });
    sut.remember([post('1')]);
    expect(sut.fresh(['1'])).toEqual({ found: new Map(), missing: ['1'] });
    expect(sut.recall(['1', '2'])).toEqual({ found: [post('1')], missing: ['2'] });
  });

  it('recalls stale posts as the fallback for 15 minutes, not longer', () => {
    const sut = new HydratedPosts({ freshMs: 1_000, now: () => clock });
    sut.remember([post('1')]);
    clock += FALLBACK_TTL_MS;
    expect(sut.recall(['1']).found).toHaveLength(1);
    clock += 1;
    expect(sut.recall(['1'])).toEqual({ found: [], missing: ['1'] });
  });

  it('is bounded: the least recently used post goes first', () => {
    const sut = new HydratedPosts({ freshMs: 1_000, max: 2, now: () => clock });
    sut.remember([post('1'), post('2')]);
    sut.fresh(['1']);
    sut.remember([post('3')]);
    expect(sut.recall(['1', '2', '3']).missing).toEqual(['2']);
  });
});
