import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Cache, warmCache } from '@murmur/cache';
import { BOARDS } from '@murmur/contracts';
import { type DerivedState, derivedFallbackReadsTotal, isPast } from '@murmur/rebuild';
import { LeaderboardScoresRepository } from './leaderboard-scores.repository';
import { type RankedEntry, LeaderboardRepository } from './leaderboard.repository';
import { LeaderboardError, LeaderboardErrorCode } from './leaderboards.errors';

const KNOWN_BOARDS = new Set<string>(Object.values(BOARDS));
export const LEADERBOARD_TOP_CACHE_MS = Symbol('LEADERBOARD_TOP_CACHE_MS');
export const DERIVED_STATE = Symbol('DERIVED_STATE');
/** the page clients ask for unless they say otherwise (the request's default `limit`) */
export const DEFAULT_TOP = 10;

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

  /** Warm the top of every board before serving; refresh-ahead keeps it warm while it is read. */
  async onApplicationBootstrap(): Promise<void> {
    const cache = this.topCache;
    if (!cache) {
      return;
    }
    const load = (board: string, limit: number) => this.load(board, limit);
    async function* batches(): AsyncGenerator<Array<[string, RankedEntry[]]>> {
      for (const board of KNOWN_BOARDS) {
        yield [[`${board}:${DEFAULT_TOP}`, await load(board, DEFAULT_TOP)]];
      }
    }
    await warmCache(cache, batches(), { expected: KNOWN_BOARDS.size, logger: this.logger });
  }

  async top(board: string, limit: number): Promise<RankedEntry[]> {
    if (!KNOWN_BOARDS.has(board)) {
      throw new LeaderboardError(
        LeaderboardErrorCode.UnknownBoard,
        `No leaderboard named "${board}".`,
      );
    }
    if (!this.topCache) {
      return this.load(board, limit);
    }
    const entries = await this.topCache.getOrSet(`${board}:${limit}`, () =>
      this.load(board, limit),
    );
    return entries ?? [];
  }

  /**
   * The Redis board, unless the data Redis lost it and the rebuild has not restored the boards
   * yet: then the durable record in Postgres answers (a replica read by the rank index).
   */
  private async load(board: string, limit: number): Promise<RankedEntry[]> {
    if (isPast(await this.derived.status(), 'leaderboards')) {
      return this.boards.top(board, limit);
    }
    derivedFallbackReadsTotal.inc({ reader: 'leaderboard', via: 'postgres' });
    const top = await this.scores.top(board, limit);
    return top.map((entry, i) => ({ ...entry, rank: i + 1 }));
  }
}
