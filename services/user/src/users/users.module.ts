import { type DynamicModule, Module } from '@nestjs/common';
import type { UserApiConfig } from '../config';
import { PASSWORD_HASHER_OPTIONS, PasswordHasher } from './password-hasher';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

/**
 * Users, credentials and profiles. Sessions and follows import the same module object (one
 * repository, hasher and profile cache), given to them by the composition root.
 */
@Module({})
export class UsersModule {
  static forRoot(
    config: Pick<UserApiConfig, 'ARGON2_MEMORY_KIB' | 'ARGON2_TIME_COST'>,
  ): DynamicModule {
    return {
      module: UsersModule,
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
