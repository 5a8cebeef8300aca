import { type DynamicModule, Module } from '@nestjs/common';
import { FollowsController } from './follows.controller';
import { FollowsRepository } from './follows.repository';
import { FollowsService } from './follows.service';

@Module({ controllers: [FollowsController], providers: [FollowsRepository, FollowsService] })
export class FollowsModule {
  /** `users`: the app's users module (a follow re-caches both users' profiles). */
  static forRoot(users: DynamicModule): DynamicModule {
    return { module: FollowsModule, imports: [users] };
  }
}
