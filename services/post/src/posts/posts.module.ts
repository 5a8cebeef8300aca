import { type DynamicModule, Module } from '@nestjs/common';
import type { PostApiConfig } from '../config';
import { LikesModule } from '../likes/likes.module';
import { PostsController } from './posts.controller';
import { PostsGrpcController } from './posts.grpc.controller';
import { PostsRepository } from './posts.repository';
import { PostsService } from './posts.service';

@Module({})
export class PostsModule {
  static forRoot(config: PostApiConfig): DynamicModule {
    return {
      module: PostsModule,
      imports: [LikesModule.forRoot(config)],
      controllers: [PostsController, PostsGrpcController],
      providers: [PostsRepository, PostsService],
    };
  }
}
