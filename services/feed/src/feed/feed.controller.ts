import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { AuthGuard, CurrentSession, type Session } from '@murmur/auth';
import { HttpCache, PRIVATE_READ } from '@murmur/http';
import { FeedQueryRequest } from './dto/feed-query.request';
import type { FeedResponse } from './dto/feed.response';
import { FeedService } from './feed.service';

@Controller('api/feed')
@UseGuards(AuthGuard)
export class FeedController {
  constructor(@Inject(FeedService) private readonly feed: FeedService) {}

  @Get()
  @HttpCache(PRIVATE_READ)
  async get(
    @CurrentSession() session: Session,
    @Query() query: FeedQueryRequest,
  ): Promise<FeedResponse> {
    return this.feed.page(session.userId, query.limit, query.cursor);
  }
}
