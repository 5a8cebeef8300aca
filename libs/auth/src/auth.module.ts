import { type DynamicModule, Module } from '@nestjs/common';
import type { SessionConfig } from '@murmur/config';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import { AuthGuard, OptionalAuthGuard } from './auth.guard';
import { SessionStore } from './session-store';

@Module({})
export class AuthModule {
  static forRoot(config: SessionConfig): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      providers: [
        {
          provide: SessionStore,
          inject: [REDIS],
          useFactory: (redis: Redis) => new SessionStore(redis, config),
        },
        AuthGuard,
        OptionalAuthGuard,
      ],
      exports: [SessionStore, AuthGuard, OptionalAuthGuard],
    };
  }
}
