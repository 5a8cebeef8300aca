import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  AuthGuard,
  CurrentSession,
  OptionalAuthGuard,
  OptionalSession,
  type Session,
} from '@murmur/auth';
import { HttpCache, PUBLIC_READ, wantsFresh } from '@murmur/http';
import { RateLimit, RateLimitGuard } from '@murmur/rate-limit';
import { CreateUserRequest } from './dto/create-user.request';
import {
  type CreatedUserResponse,
  type ProfileResponse,
  toProfileResponse,
} from './dto/profile.response';
import { UpdateProfileRequest } from './dto/update-profile.request';
import { UserIdParams } from './dto/user-id.params';
import { UsersService } from './users.service';

@Controller('api/users')
export class UsersController {
  constructor(@Inject(UsersService) private readonly users: UsersService) {}

  @Post()
  @HttpCode(201)
  @UseGuards(RateLimitGuard)
  @RateLimit('signup')
  async create(@Body() body: CreateUserRequest): Promise<CreatedUserResponse> {
    const user = await this.users.register(body);
    return { id: String(user.id), username: user.username };
  }

  @Get('me')
  @UseGuards(AuthGuard)
  async me(@CurrentSession() session: Session): Promise<ProfileResponse> {
    return toProfileResponse(await this.users.getProfile(session.userId));
  }

  @Patch('me')
  @UseGuards(AuthGuard)
  async updateMe(
    @CurrentSession() session: Session,
    @Body() body: UpdateProfileRequest,
  ): Promise<ProfileResponse> {
    return toProfileResponse(await this.users.updateProfile(session.userId, body));
  }

  /**
   * Public; a caller who sends their token also gets read-your-writes. `Cache-Control: no-cache`
   * reads past the cache only for the profile's owner: from anyone else it would cost a primary
   * read and a cache refresh per request, uncoalesced (OWASP API4), so theirs is a normal read.
   */
  @Get(':id')
  @HttpCache(PUBLIC_READ)
  @UseGuards(OptionalAuthGuard)
  async get(
    @Param() params: UserIdParams,
    @OptionalSession() session: Session | undefined,
    @Headers('cache-control') cacheControl?: string,
  ): Promise<ProfileResponse> {
    const fresh = session?.userId === params.id && wantsFresh(cacheControl);
    return toProfileResponse(await this.users.getProfile(params.id, { fresh }));
  }
}
