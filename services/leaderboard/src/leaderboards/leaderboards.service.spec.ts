import type { WindowPeriod } from '@murmur/contracts';
import type { DerivedState, DerivedStatus } from '@murmur/rebuild';
import type { LeaderboardClock } from './leaderboard-clock';
import type { LeaderboardScoresRepository, PostgresSource } from './leaderboard-scores.repository';
import type { LeaderboardRepository } from './leaderboard.repository';
import { LeaderboardError } from './leaderboards.errors';
import { DEFAULT_TOP, LeaderboardsService } from './leaderboards.service';
import type { Neighbourhood, RankedEntry } from './ranked-entry';

const ranked = (prefix: string, limit: number, top: number): RankedEntry[] =>
  Array.from({ length: limit }, (_, i) => ({ id: `${prefix}${i}`, score: top - i, rank: i + 1 }));

class FakeBoards implements Pick<LeaderboardRepository, 'top' | 'around'> {
  reads: string[] = [];
  top(board: string, period: WindowPeriod, limit: number): Promise<RankedEntry[]> {
    this.reads.push(`${board}:${period.period}`);
    return Promise.resolve(ranked('1', limit, 10));
  }
  around(_board: string, _p: WindowPeriod, id: string): Promise<Neighbourhood | undefined> {
    const member = { id, score: 3, rank: 7 };
    return Promise.resolve(id === '404' ? undefined : { member, entries: [member] });
  }
}

class FakeScores implements Pick<LeaderboardScoresRepository, 'top' | 'around'> {
  reads: Array<[PostgresSource, string]> = [];
  top(
    source: PostgresSource,
    _board: string,
    period: WindowPeriod,
    limit: number,
  ): Promise<RankedEntry[]> {
    this.reads.push([source, period.period]);
    return Promise.resolve(ranked('9', limit, 100));
  }
  around(): Promise<Neighbourhood | undefined> {
    return Promise.resolve(undefined);
  }
}

class FakeClock implements LeaderboardClock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
}

const derived = (status: DerivedStatus): DerivedState =>
  ({ status: () => Promise.resolve(status) }) as unknown as DerivedState;

function service(
  topCacheMs: number,
  status: DerivedStatus = { ready: true },
  now = Date.parse('2026-12-03T12:00:00Z'),
) {
  const boards = new FakeBoards();
  const scores = new FakeScores();
  const clock = new FakeClock(now);
  const sut = new LeaderboardsService(
    boards as unknown as LeaderboardRepository,
    scores as unknown as LeaderboardScoresRepository,
    derived(status),
    topCacheMs,
    clock,
  );
  return { sut, boards, scores, clock };
}

describe(LeaderboardsService.name, () => {
  it('serves repeated top-N reads of a window from the in-process cache', async () => {
    const { sut, boards } = service(60_000);
    const today = sut.resolve('posters', 'daily');
    await sut.top(today, 3);
    await expect(sut.top(today, 3)).resolves.toHaveLength(3);
    expect(boards.reads).toHaveLength(1);
    await sut.top(today, 5); // another N is another entry
    await sut.top(sut.resolve('posters', 'weekly'), 3); // and another window
    expect(boards.reads).toHaveLength(3);
  });

  it('reads the board every time when the cache is switched off', async () => {
    const { sut, boards } = service(0);
    const all = sut.resolve('posters', 'all');
    await sut.top(all, 3);
    await sut.top(all, 3);
    expect(boards.reads).toHaveLength(2);
  });

  it('warms the default top of every board and window at start-up, so the first read is a hit', async () => {
    const { sut, boards } = service(60_000);
    await sut.onApplicationBootstrap();
    const warmed = boards.reads.length;
    expect(warmed).toBe(6); // 2 boards × 3 windows
    await sut.top(sut.resolve('liked-posts', 'weekly'), DEFAULT_TOP);
    expect(boards.reads).toHaveLength(warmed);
  });

  it('picks the window holding now by the injected clock, rolling over at midnight UTC', () => {
    const { sut, clock } = service(0, { ready: true }, Date.parse('2026-12-03T23:59:59.999Z'));
    expect(sut.resolve('posters', 'daily').period.period).toBe('2026-12-03');
    clock.ms = Date.parse('2026-12-04T00:00:00.000Z');
    expect(sut.resolve('posters', 'daily').period.period).toBe('2026-12-04');
    expect(sut.resolve('posters', 'weekly').period.period).toBe('2026-W49');
  });

  it.each([
    ['an unknown board', 'nope', 'daily', undefined, 'unknown_board'],
    ['a period of another window', 'posters', 'daily', '2026-W49', 'invalid_period'],
    ['a day that does not exist', 'posters', 'daily', '2026-02-30', 'invalid_period'],
  ] as const)('refuses %s', (_what, board, window, period, code) => {
    const { sut } = service(0);
    expect(() => sut.resolve(board, window, period)).toThrow(
      expect.objectContaining({ code }) as Error,
    );
  });

  it('refuses `me` on a board of posts', () => {
    const { sut } = service(0);
    expect(() => sut.requireUserBoard(sut.resolve('liked-posts', 'all'))).toThrow(LeaderboardError);
    expect(() => sut.requireUserBoard(sut.resolve('posters', 'all'))).not.toThrow();
  });

  it('reads yesterday from Redis during its grace, and from the view once its key expired', async () => {
    const { sut, boards, scores, clock } = service(0);
    const yesterday = sut.resolve('posters', 'daily', '2026-12-02');
    clock.ms = Date.parse('2026-12-03T01:00:00Z');
    await sut.top(yesterday, 3);
    expect(boards.reads).toEqual(['posters:2026-12-02']);
    clock.ms = Date.parse('2026-12-03T02:00:00Z');
    await expect(sut.top(yesterday, 3)).resolves.toHaveLength(3);
    expect(scores.reads).toEqual([['view', '2026-12-02']]);
  });

  it.each<[string, DerivedStatus]>([
    ['no rebuild has started yet', { ready: false }],
    ['the rebuild is still restoring the graph', { ready: false, phase: 'graph' }],
    ['the rebuild is recounting the boards', { ready: false, phase: 'leaderboards' }],
  ])('reads the current window live from the ledger while %s', async (_, status) => {
    const { sut, boards, scores } = service(0, status);
    const top = await sut.top(sut.resolve('posters', 'daily'), 3);
    expect(boards.reads).toHaveLength(0);
    expect(scores.reads).toEqual([['live', '2026-12-03']]);
    expect(top.map((e) => e.rank)).toEqual([1, 2, 3]);
  });

  it('goes back to the Redis board once the rebuild has restored the boards', async () => {
    const { sut, boards, scores } = service(0, { ready: true });
    await sut.top(sut.resolve('posters', 'all'), 3);
    expect(boards.reads).toHaveLength(1);
    expect(scores.reads).toHaveLength(0);
  });

  it("answers a member's place, and 404 for one with no score", async () => {
    const { sut } = service(0);
    const all = sut.resolve('posters', 'all');
    await expect(sut.around(all, '5', 2)).resolves.toMatchObject({ member: { id: '5', rank: 7 } });
    await expect(sut.around(all, '404', 2)).rejects.toMatchObject({ code: 'not_ranked' });
  });
});
