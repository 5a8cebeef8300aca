import type { DerivedState, DerivedStatus } from '@murmur/rebuild';
import type { LeaderboardScoresRepository } from './leaderboard-scores.repository';
import type { LeaderboardRepository, RankedEntry } from './leaderboard.repository';
import { DEFAULT_TOP, LeaderboardsService } from './leaderboards.service';

class FakeBoards implements Pick<LeaderboardRepository, 'top'> {
  reads = 0;
  top(_board: string, limit: number): Promise<RankedEntry[]> {
    this.reads++;
    return Promise.resolve(
      Array.from({ length: limit }, (_, i) => ({ userId: `u${i}`, score: 10 - i, rank: i + 1 })),
    );
  }
}

class FakeScores implements Pick<LeaderboardScoresRepository, 'top'> {
  reads = 0;
  top(_board: string, limit: number): Promise<Array<{ userId: string; score: number }>> {
    this.reads++;
    return Promise.resolve(
      Array.from({ length: limit }, (_, i) => ({ userId: `pg${i}`, score: 100 - i })),
    );
  }
}

const derived = (status: DerivedStatus): DerivedState =>
  ({ status: () => Promise.resolve(status) }) as unknown as DerivedState;

function service(topCacheMs: number, status: DerivedStatus = { ready: true }) {
  const boards = new FakeBoards();
  const scores = new FakeScores();
  const sut = new LeaderboardsService(
    boards as unknown as LeaderboardRepository,
    scores as unknown as LeaderboardScoresRepository,
    derived(status),
    topCacheMs,
  );
  return { sut, boards, scores };
}

describe(LeaderboardsService.name, () => {
  it('serves repeated top-N reads from the in-process cache', async () => {
    const { sut, boards } = service(60_000);
    await sut.top('posters', 3);
    await expect(sut.top('posters', 3)).resolves.toHaveLength(3);
    expect(boards.reads).toBe(1);
    await sut.top('posters', 5); // another N is another entry
    expect(boards.reads).toBe(2);
  });

  it('reads the board every time when the cache is switched off', async () => {
    const { sut, boards } = service(0);
    await sut.top('posters', 3);
    await sut.top('posters', 3);
    expect(boards.reads).toBe(2);
  });

  it('warms the default top of every board at start-up, so the first read is a hit', async () => {
    const { sut, boards } = service(60_000);
    await sut.onApplicationBootstrap();
    const warmed = boards.reads;
    expect(warmed).toBeGreaterThan(0);
    await sut.top('posters', DEFAULT_TOP);
    expect(boards.reads).toBe(warmed);
  });

  it.each<[string, DerivedStatus]>([
    ['no rebuild has started yet', { ready: false }],
    ['the rebuild is still restoring the graph', { ready: false, phase: 'graph' }],
    ['the rebuild is recounting the boards', { ready: false, phase: 'leaderboards' }],
  ])('reads the board from Postgres while %s', async (_, status) => {
    const { sut, boards, scores } = service(0, status);
    const top = await sut.top('posters', 3);
    expect(boards.reads).toBe(0);
    expect(scores.reads).toBe(1);
    expect(top).toEqual([
      { userId: 'pg0', score: 100, rank: 1 },
      { userId: 'pg1', score: 99, rank: 2 },
      { userId: 'pg2', score: 98, rank: 3 },
    ]);
  });

  it('goes back to the Redis board once the rebuild has restored the boards', async () => {
    const { sut, boards, scores } = service(0, { ready: true });
    await sut.top('posters', 3);
    expect(boards.reads).toBe(1);
    expect(scores.reads).toBe(0);
  });
});
