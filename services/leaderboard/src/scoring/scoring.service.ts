import { Inject, Injectable, Logger } from '@nestjs/common';
import { LEADERBOARD_JOBS, QUEUES, type ScoreJob } from '@murmur/contracts';
import { withDeadline } from '@murmur/errors';
import { ENQUEUE_DEADLINE_MS, InjectJobQueue, type JobQueue } from '@murmur/queue';
import { LEADERBOARD_CLOCK, type LeaderboardClock } from '../leaderboards/leaderboard-clock';
import { LeaderboardScoresRepository } from '../leaderboards/leaderboard-scores.repository';
import { LeaderboardRepository } from '../leaderboards/leaderboard.repository';

export const VIEW_REFRESH = Symbol('VIEW_REFRESH');

/** How the per-window view is kept fresh (LEADERBOARD_VIEW_REFRESH_*). */
export interface ViewRefreshOptions {
  /** ms between refreshes; 0 switches the schedule off */
  everyMs: number;
  /** the refresh's statement timeout, ms */
  timeoutMs: number;
}

/** At most one refresh waits and one runs, across every worker process. */
export const REFRESH_DEDUP_ID = 'leaderboard-refresh-views';

@Injectable()
export class ScoringService {
  private readonly logger = new Logger(ScoringService.name);

  constructor(
    @Inject(LeaderboardRepository) private readonly boards: LeaderboardRepository,
    @Inject(LeaderboardScoresRepository) private readonly scores: LeaderboardScoresRepository,
    @Inject(LEADERBOARD_CLOCK) private readonly clock: LeaderboardClock,
    @Inject(VIEW_REFRESH) private readonly refresh: ViewRefreshOptions,
    @InjectJobQueue(QUEUES.leaderboard)
    private readonly queue: JobQueue<typeof QUEUES.leaderboard>,
  ) {}

  /**
   * Count the event once in Postgres (the durable record), then show the member's committed
   * scores in the event's day, week and all-time boards. A crash between the two is healed by
   * the retry, which finds the event counted and projects the scores it reads back; the version
   * keeps an older projection from overwriting a newer one.
   */
  async apply(job: ScoreJob): Promise<number> {
    const counted = await this.scores.count(job, this.clock.now());
    if (!counted) {
      return 0;
    }
    await this.boards.project(job.board, job.userId, counted.version, counted.windows);
    return counted.windows[counted.windows.length - 1].score;
  }

  /** REFRESH MATERIALIZED VIEW CONCURRENTLY, bounded by the configured timeout. */
  async refreshViews(): Promise<{ ms: number }> {
    const started = this.clock.now();
    await this.scores.refreshView(this.refresh.timeoutMs);
    return { ms: this.clock.now() - started };
  }

  /** Queue a refresh unless one is waiting already (the schedule's tick). */
  async scheduleRefresh(): Promise<void> {
    await withDeadline(
      this.queue.add(
        LEADERBOARD_JOBS.refreshViews,
        {},
        {
          deduplication: { id: REFRESH_DEDUP_ID },
          removeOnComplete: true,
          removeOnFail: { age: 24 * 3600 },
          // a failed refresh is retried by the next tick, not by a pile of attempts
          attempts: 1,
        },
      ),
      ENQUEUE_DEADLINE_MS,
      'The job queue',
    ).catch((error: Error) => this.logger.warn(`view refresh not scheduled: ${error.message}`));
  }

  get refreshEveryMs(): number {
    return this.refresh.everyMs;
  }
}
