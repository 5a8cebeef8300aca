import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { type GetPostsRequest, type GetPostsResponse, POST_GRPC_SERVICE } from '@murmur/contracts';
import { status } from '@grpc/grpc-js';
import { PostError } from './posts.errors';
import { rpcServerRequestsTotal } from './posts.metrics';
import { PostsService } from './posts.service';

@Controller()
export class PostsGrpcController {
  constructor(@Inject(PostsService) private readonly posts: PostsService) {}

  @GrpcMethod(POST_GRPC_SERVICE, 'GetPosts')
  async getPosts(request: GetPostsRequest): Promise<GetPostsResponse> {
    try {
      const posts = await this.posts.getMany(request.ids ?? []);
      rpcServerRequestsTotal.inc({ method: 'PostService/GetPosts', outcome: 'ok' });
      return { posts };
    } catch (error) {
      rpcServerRequestsTotal.inc({ method: 'PostService/GetPosts', outcome: 'error' });
      if (error instanceof PostError) {
        throw new RpcException({ code: status.INVALID_ARGUMENT, message: error.message });
      }
      throw error;
    }
  }
}
