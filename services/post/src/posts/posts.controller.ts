import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  AuthGuard,
  CurrentSession,
  OptionalAuthGuard,
  OptionalSession,
  type Session,
} from '@murmur/auth';
import { HttpCache, parseIdempotencyKey, PUBLIC_READ, wantsFresh } from '@murmur/http';
import type { FastifyReply } from 'fastify';
import { RateLimit, RateLimitGuard } from '@murmur/rate-limit';
import { AuthorPostsQuery } from './dto/author-posts.query';
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
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PostResponse> {
    const { post, replayed } = await this.posts.create(
      session.userId,
      body.text,
      parseIdempotencyKey(idempotencyKey),
    );
    if (replayed) {
      // The same answer as the first time, marked so a client can tell (Stripe does the same).
      void reply.header('idempotency-replayed', 'true');
    }
    return toPostResponse(post);
  }

  /** `GET /api/posts?author=<id>&before=<cursor>&limit=20`: an author's posts, newest first. */
  @Get()
  // Public, but a caller's token brings their read-your-writes positions: an author reading their
  // own page just after posting is served by the shard's primary, not a replica behind the post.
  @UseGuards(OptionalAuthGuard)
  @HttpCache(PUBLIC_READ)
  async byAuthor(
    @Query() query: AuthorPostsQuery,
    @OptionalSession() session: Session | undefined,
    @Headers('cache-control') cacheControl?: string,
  ): Promise<{ items: PostResponse[]; nextCursor: string | null }> {
    // `no-cache` is honoured for the author only (see PostsService.byAuthor).
    const page = await this.posts.byAuthor(query.author, query.before, query.limit ?? 20, {
      fresh: wantsFresh(cacheControl),
      viewerId: session?.userId,
    });
    return { items: page.items.map(toPostResponse), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @UseGuards(OptionalAuthGuard)
  @HttpCache(PUBLIC_READ)
  async get(@Param() params: PostIdParams): Promise<PostResponse> {
    return toPostResponse(await this.posts.get(params.id));
  }
}
