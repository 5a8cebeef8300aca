import { Body, Controller, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { AuthGuard, CurrentSession, type Session } from '@murmur/auth';
import { RateLimit, RateLimitGuard } from '@murmur/rate-limit';
import { CreatePostRequest } from './dto/create-post.request';
import { PostIdParams } from './dto/post-id.params';
import { type PostResponse, toPostResponse } from './dto/post.response';
import { PostsService } from './posts.service';

@Controller('api/posts')
export class PostsController {
  constructor(@Inject(PostsService) private readonly posts: PostsService) {}

  @Post()
  @HttpCode(201)
  @UseGuards(AuthGuard, RateLimitGuard)
  @RateLimit('writes')
  async create(
    @CurrentSession() session: Session,
    @Body() body: CreatePostRequest,
  ): Promise<PostResponse> {
    return toPostResponse(await this.posts.create(session.userId, body.text));
  }

  @Get(':id')
  async get(@Param() params: PostIdParams): Promise<PostResponse> {
    return toPostResponse(await this.posts.get(params.id));
  }
}
