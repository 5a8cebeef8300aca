import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { AuthGuard, CurrentSession, type Session } from '@murmur/auth';
import { HttpCache, PUBLIC_READ } from '@murmur/http';
import { BoardParams, LeaderboardQuery, MyRankQuery } from './dto/leaderboard.request';
import {
  type LeaderboardResponse,
  type NeighbourhoodResponse,
  toLeaderboardResponse,
  toNeighbourhoodResponse,
} from './dto/leaderboard.response';
import { LeaderboardsService } from './leaderboards.service';

@Controller('api/leaderboards')
export class LeaderboardsController {
  constructor(@Inject(LeaderboardsService) private readonly leaderboards: LeaderboardsService) {}

  /** The top of a board in a window, or (`around`) one member's place: the same for everyone. */
  @Get(':board')
  @HttpCache(PUBLIC_READ)
  async get(
    @Param() params: BoardParams,
    @Query() query: LeaderboardQuery,
  ): Promise<LeaderboardResponse | NeighbourhoodResponse> {
    const target = this.leaderboards.resolve(params.board, query.window, query.period);
    if (query.around !== undefined) {
      return toNeighbourhoodResponse(
        target,
        await this.leaderboards.around(target, query.around, query.span),
      );
    }
    return toLeaderboardResponse(target, await this.leaderboards.top(target, query.limit));
  }

  /** The caller's own place: personal, so no cache policy (no-store). */
  @Get(':board/me')
  @UseGuards(AuthGuard)
  async me(
    @CurrentSession() session: Session,
    @Param() params: BoardParams,
    @Query() query: MyRankQuery,
  ): Promise<NeighbourhoodResponse> {
    const target = this.leaderboards.resolve(params.board, query.window, query.period);
    this.leaderboards.requireUserBoard(target);
    return toNeighbourhoodResponse(
      target,
      await this.leaderboards.around(target, session.userId, query.span),
    );
  }
}
