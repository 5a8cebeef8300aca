import { type DynamicModule, Module } from '@nestjs/common';
import type { PostConfig } from '../config';
import { PostsController } from './posts.controller';
import { PostsGrpcController } from './posts.grpc.controller';
import { PostsRepository } from './posts.repository';
import { PostsService } from './posts.service';

@Module({})
export class PostsModule {
  static forRoot(_config: PostConfig): DynamicModule {
    return {
      module: PostsModule,
      controllers: [PostsController, PostsGrpcController],
      providers: [PostsRepository, PostsService],
    };
  }
}
