import { QUEUES, type ScoreJob, windowsAt } from '@murmur/contracts';
import { InMemoryJobQueue } from '@murmur/queue';
import type { WindowScore } from '@murmur/rebuild';
import type { LeaderboardScoresRepository } from '../leaderboards/leaderboard-scores.repository';
import type { LeaderboardRepository } from '../leaderboards/leaderboard.repository';
import { REFRESH_DEDUP_ID, ScoringService } from './scoring.service';

class FakeScores implements Pick<LeaderboardScoresRepository, 'count' | 'refreshView'> {
  counted: Array<{ job: ScoreJob; nowMs: number }> = [];
  refreshTimeouts: number[] = [];
  count(job: ScoreJob, nowMs: number) {
    this.counted.push({ job, nowMs });
    const windows = windowsAt(job.at ?? nowMs).map((period, i) => ({ period, score: 10 + i }));
    return Promise.resolve({ version: 7, windows });
  }
  refreshView(timeoutMs: number): Promise<void> {
    this.refreshTimeouts.push(timeoutMs);
    return Promise.resolve();
  }
}

class FakeBoards implements Pick<LeaderboardRepository, 'project'> {
  projected: Array<{ board: string; id: string; version: number; periods: string[] }> = [];
  project(board: string, id: string, version: number, windows: readonly WindowScore[]) {
    this.projected.push({ board, id, version, periods: windows.map((w) => w.period.period) });
    return Promise.resolve();
  }
}

function service() {
  const scores = new FakeScores();
  const boards = new FakeBoards();
  const queue = new InMemoryJobQueue(QUEUES.leaderboard);
  const sut = new ScoringService(
    boards as unknown as LeaderboardRepository,
    scores as unknown as LeaderboardScoresRepository,
    { now: () => Date.parse('2026-12-04T00:00:05Z') },
    { everyMs: 60_000, timeoutMs: 1_234 },
    queue,
  );
  return { sut, scores, boards, queue };
}

describe(ScoringService.name, () => {
  it('projects an event into the windows of the instant it happened, not of when it is counted', async () => {
    const { sut, boards } = service();
    const at = Date.parse('2026-12-03T23:59:59.999Z');
    await expect(
      sut.apply({ board: 'posters', userId: '5', delta: 1, eventId: 'post-1', at }),
    ).resolves.toBe(12);
    expect(boards.projected).toEqual([
      { board: 'posters', id: '5', version: 7, periods: ['2026-12-03', '2026-W49', 'all'] },
    ]);
  });

  it('dates an event without a time by the clock', async () => {
    const { sut, boards, scores } = service();
    await sut.apply({ board: 'posters', userId: '5', delta: 1, eventId: 'post-2' });
    expect(scores.counted[0].nowMs).toBe(Date.parse('2026-12-04T00:00:05Z'));
    expect(boards.projected[0].periods[0]).toBe('2026-12-04');
  });

  it('enqueues every refresh under one deduplication id (BullMQ keeps one waiting), bounded by the configured timeout', async () => {
    const { sut, scores, queue } = service();
    await sut.scheduleRefresh();
    await sut.scheduleRefresh();
    expect(queue.adds).toBe(2);
    expect(queue.jobs.map((j) => j.opts?.deduplication?.id)).toEqual([
      REFRESH_DEDUP_ID,
      REFRESH_DEDUP_ID,
    ]);
    await sut.refreshViews();
    expect(scores.refreshTimeouts).toEqual([1_234]);
  });

  it('does not throw when the queue is down (the next tick tries again)', async () => {
    const { sut, queue } = service();
    queue.failing = new Error('down');
    await expect(sut.scheduleRefresh()).resolves.toBeUndefined();
  });
});
