import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Cache, warmCache } from '@murmur/cache';
import {
  BOARD_MEMBERS,
  type BoardName,
  type BoardWindow,
  parsePeriod,
  WINDOWS,
  windowAt,
  windowExpiresAt,
  type WindowPeriod,
} from '@murmur/contracts';
import { type DerivedState, derivedFallbackReadsTotal, isPast } from '@murmur/rebuild';
import { LEADERBOARD_CLOCK, type LeaderboardClock } from './leaderboard-clock';
import { type PostgresSource, LeaderboardScoresRepository } from './leaderboard-scores.repository';
import { LeaderboardRepository } from './leaderboard.repository';
import { LeaderboardError, LeaderboardErrorCode } from './leaderboards.errors';
import type { Neighbourhood, RankedEntry } from './ranked-entry';

export const LEADERBOARD_TOP_CACHE_MS = Symbol('LEADERBOARD_TOP_CACHE_MS');
export const DERIVED_STATE = Symbol('DERIVED_STATE');
/** the page clients ask for unless they say otherwise (the request's default `limit`) */
export const DEFAULT_TOP = 10;

/** A board in one window: what every read names first. */
export interface BoardPeriod {
  board: BoardName;
  period: WindowPeriod;
}

/** Where a read is answered from, and why (docs/patterns/leaderboards.md). */
export type BoardSource = 'redis' | PostgresSource;

@Injectable()
export class LeaderboardsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(LeaderboardsService.name);
  /**
   * The top-N of a board is the hottest read there is and the same for every reader: keep it in
   * process for a moment (L1 only: the board already lives in Redis, an L2 copy would save
   * nothing) and refresh it ahead of expiry, so steady readers never wait for ZREVRANGE and the
   * answer is at most one TTL old.
   */
  private readonly topCache?: Cache<RankedEntry[]>;

  constructor(
    @Inject(LeaderboardRepository) private readonly boards: LeaderboardRepository,
    @Inject(LeaderboardScoresRepository) private readonly scores: LeaderboardScoresRepository,
    @Inject(DERIVED_STATE) private readonly derived: DerivedState,
    @Inject(LEADERBOARD_TOP_CACHE_MS) topCacheMs: number,
    @Inject(LEADERBOARD_CLOCK) private readonly clock: LeaderboardClock,
  ) {
    if (topCacheMs > 0) {
      this.topCache = new Cache<RankedEntry[]>({
        name: 'leaderboard-top',
        ttlSeconds: topCacheMs / 1000,
        negativeTtlSeconds: 0,
        l1: { enabled: true, maxEntries: 1_000 },
        xfetchBeta: 0,
        refreshAheadRatio: 0.5,
      });
    }
  }

  /** Warm the current top of every board and window; refresh-ahead keeps them warm while read. */
  async onApplicationBootstrap(): Promise<void> {
    const cache = this.topCache;
    if (!cache) {
      return;
    }
    const targets = Object.keys(BOARD_MEMBERS).flatMap((board) =>
      WINDOWS.map((window) => this.resolve(board, window)),
    );
    const load = (target: BoardPeriod) => this.loadTop(target, DEFAULT_TOP);
    async function* batches(): AsyncGenerator<Array<[string, RankedEntry[]]>> {
      for (const target of targets) {
        yield [[topKey(target, DEFAULT_TOP), await load(target)]];
      }
    }
    await warmCache(cache, batches(), { expected: targets.length, logger: this.logger });
  }

  /**
   * The board and window a request names: the window holding now, or the named `period`
   * (`2026-12-03`, `2026-W49`). Throws for an unknown board or a period not of that window.
   */
  resolve(board: string, window: BoardWindow, period?: string): BoardPeriod {
    if (!(board in BOARD_MEMBERS)) {
      throw new LeaderboardError(
        LeaderboardErrorCode.UnknownBoard,
        `No leaderboard named "${board}".`,
      );
    }
    const found =
      period === undefined ? windowAt(window, this.clock.now()) : parsePeriod(window, period);
    if (!found) {
      throw new LeaderboardError(
        LeaderboardErrorCode.InvalidPeriod,
        `"${period}" is not a ${window} period (daily: 2026-12-03, weekly: 2026-W49, all: all).`,
      );
    }
    return { board: board as BoardName, period: found };
  }

  /** A board that ranks users, for `me`. */
  requireUserBoard(target: BoardPeriod): void {
    if (BOARD_MEMBERS[target.board] !== 'user') {
      throw new LeaderboardError(
        LeaderboardErrorCode.NotAUserBoard,
        `The ${target.board} board ranks posts, not users: ask for ?around=<post id>.`,
      );
    }
  }

  async top(target: BoardPeriod, limit: number): Promise<RankedEntry[]> {
    if (!this.topCache) {
      return this.loadTop(target, limit);
    }
    const entries = await this.topCache.getOrSet(topKey(target, limit), () =>
      this.loadTop(target, limit),
    );
    return entries ?? [];
  }

  /** A member's rank and score and up to `span` neighbours each side; 404 when unranked. */
  async around(target: BoardPeriod, id: string, span: number): Promise<Neighbourhood> {
    const source = await this.source(target.period);
    const found =
      source === 'redis'
        ? await this.boards.around(target.board, target.period, id, span)
        : await this.scores.around(source, target.board, target.period, id, span);
    if (!found) {
      throw new LeaderboardError(
        LeaderboardErrorCode.NotRanked,
        `${id} has no score on ${target.board} (${target.period.window} ${target.period.period}).`,
      );
    }
    return found;
  }

  /**
   * Where a window is read from. The current windows (and one just ended, for its grace) live in
   * Redis, unless the data Redis lost them and the rebuild has not restored the boards yet: then
   * the ledger answers, exactly, by a live aggregate on a replica. Windows whose keys have expired
   * are history: the materialized view holds them.
   */
  async source(period: WindowPeriod): Promise<BoardSource> {
    const now = this.clock.now();
    const expires = windowExpiresAt(period);
    if (expires !== undefined && (expires <= now || period.startMs > now)) {
      return 'view';
    }
    if (isPast(await this.derived.status(), 'leaderboards')) {
      return 'redis';
    }
    derivedFallbackReadsTotal.inc({ reader: 'leaderboard', via: 'postgres' });
    return 'live';
  }

  private async loadTop(target: BoardPeriod, limit: number): Promise<RankedEntry[]> {
    const source = await this.source(target.period);
    return source === 'redis'
      ? this.boards.top(target.board, target.period, limit)
      : this.scores.top(source, target.board, target.period, limit);
  }
}

const topKey = ({ board, period }: BoardPeriod, limit: number): string =>
  `${board}:${period.window}:${period.period}:${limit}`;
