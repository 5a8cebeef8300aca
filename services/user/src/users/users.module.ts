import { type DynamicModule, Module } from '@nestjs/common';
import type { UserConfig } from '../config';
import { PASSWORD_HASHER_OPTIONS, PasswordHasher } from './password-hasher';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({})
export class UsersModule {
  static forRoot(config: UserConfig): DynamicModule {
    return {
      module: UsersModule,
      // Global: sessions and follows use the same repository, hasher and profile cache.
      global: true,
      controllers: [UsersController],
      providers: [
        UsersRepository,
        UsersService,
        PasswordHasher,
        {
          provide: PASSWORD_HASHER_OPTIONS,
          useValue: { memoryKiB: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_TIME_COST },
        },
      ],
      exports: [UsersService, UsersRepository, PasswordHasher],
    };
  }
}
