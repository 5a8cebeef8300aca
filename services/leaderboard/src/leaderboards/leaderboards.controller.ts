import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { HttpCache, PUBLIC_READ } from '@murmur/http';
import { BoardParams, LeaderboardQuery } from './dto/leaderboard.request';
import { type LeaderboardResponse, toLeaderboardResponse } from './dto/leaderboard.response';
import { LeaderboardsService } from './leaderboards.service';

@Controller('api/leaderboards')
export class LeaderboardsController {
  constructor(@Inject(LeaderboardsService) private readonly leaderboards: LeaderboardsService) {}

  @Get(':board')
  @HttpCache(PUBLIC_READ)
  async get(
    @Param() params: BoardParams,
    @Query() query: LeaderboardQuery,
  ): Promise<LeaderboardResponse> {
    return toLeaderboardResponse(
      params.board,
      await this.leaderboards.top(params.board, query.limit),
    );
  }
}
