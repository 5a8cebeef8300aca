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

describe(LeaderboardsService.name, () => {
  it('serves repeated top-N reads from the in-process cache', async () => {
    const boards = new FakeBoards();
    const sut = new LeaderboardsService(boards as unknown as LeaderboardRepository, 60_000);
    await sut.top('posters', 3);
    await expect(sut.top('posters', 3)).resolves.toHaveLength(3);
    expect(boards.reads).toBe(1);
    await sut.top('posters', 5); // another N is another entry
    expect(boards.reads).toBe(2);
  });

  it('reads the board every time when the cache is switched off', async () => {
    const boards = new FakeBoards();
    const sut = new LeaderboardsService(boards as unknown as LeaderboardRepository, 0);
    await sut.top('posters', 3);
    await sut.top('posters', 3);
    expect(boards.reads).toBe(2);
  });

  it('warms the default top of every board at start-up, so the first read is a hit', async () => {
    const boards = new FakeBoards();
    const sut = new LeaderboardsService(boards as unknown as LeaderboardRepository, 60_000);
    await sut.onApplicationBootstrap();
    const warmed = boards.reads;
    expect(warmed).toBeGreaterThan(0);
    await sut.top('posters', DEFAULT_TOP);
    expect(boards.reads).toBe(warmed);
  });
});
