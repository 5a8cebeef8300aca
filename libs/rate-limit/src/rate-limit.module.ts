import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { RateLimitConfig } from '@murmur/config';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import {
  RATE_LIMIT_CONFIG,
  RateLimitEnforcer,
  RateLimitGuard,
  RouteCeilingGuard,
} from './rate-limit.guard';
import { SlidingWindowLimiter } from './sliding-window';

/** The per-route ceiling on every route of the app, and the policy guard for routes that declare one. */
@Module({})
export class RateLimitModule {
  static forRoot(config: RateLimitConfig): DynamicModule {
    return {
      module: RateLimitModule,
      global: true,
      providers: [
        { provide: RATE_LIMIT_CONFIG, useValue: config },
        {
          provide: SlidingWindowLimiter,
          inject: [REDIS],
          useFactory: (redis: Redis) => new SlidingWindowLimiter(redis),
        },
        RateLimitEnforcer,
        RateLimitGuard,
        { provide: APP_GUARD, useClass: RouteCeilingGuard },
      ],
      exports: [RateLimitGuard, RateLimitEnforcer, RATE_LIMIT_CONFIG, SlidingWindowLimiter],
    };
  }
}
