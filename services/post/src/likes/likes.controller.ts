import { Controller, Delete, HttpCode, Inject, Param, Put, UseGuards } from '@nestjs/common';
import { AuthGuard, CurrentSession, type Session } from '@murmur/auth';
import { RateLimit, RateLimitGuard } from '@murmur/rate-limit';
import { PostIdParams } from '../posts/dto/post-id.params';
import { type LikeState, LikesService } from './likes.service';

/** PUT and DELETE: a repeated like (a retry, a double tap) is the same like. */
@Controller('api/posts/:id/like')
@UseGuards(AuthGuard, RateLimitGuard)
export class LikesController {
  constructor(@Inject(LikesService) private readonly likes: LikesService) {}

  @Put()
  @HttpCode(200)
  @RateLimit('writes')
  async like(
    @CurrentSession() session: Session,
    @Param() params: PostIdParams,
  ): Promise<LikeState> {
    return this.likes.set(params.id, session.userId, true);
  }

  @Delete()
  @HttpCode(200)
  @RateLimit('writes')
  async unlike(
    @CurrentSession() session: Session,
    @Param() params: PostIdParams,
  ): Promise<LikeState> {
    return this.likes.set(params.id, session.userId, false);
  }
}
