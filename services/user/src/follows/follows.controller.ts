import { Controller, Delete, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { AuthGuard, CurrentSession, type Session } from '@murmur/auth';
import { RateLimit, RateLimitGuard } from '@murmur/rate-limit';
import { UserIdParams } from '../users/dto/user-id.params';
import { FollowsService } from './follows.service';

@Controller('api/users/:id/follow')
@UseGuards(AuthGuard, RateLimitGuard)
@RateLimit('writes')
export class FollowsController {
  constructor(@Inject(FollowsService) private readonly follows: FollowsService) {}

  @Post()
  @HttpCode(204)
  async follow(@CurrentSession() session: Session, @Param() params: UserIdParams): Promise<void> {
    await this.follows.follow(session.userId, params.id);
  }

  @Delete()
  @HttpCode(204)
  async unfollow(@CurrentSession() session: Session, @Param() params: UserIdParams): Promise<void> {
    await this.follows.unfollow(session.userId, params.id);
  }
}
