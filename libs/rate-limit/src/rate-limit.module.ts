import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { RateLimitConfig } from '@murmur/config';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import {
  CallerLimitGuard,
  RATE_LIMIT_CONFIG,
  RATE_LIMIT_SERVICE,
  RateLimitEnforcer,
  RateLimitGuard,
} from './rate-limit.guard';
import { LOGIN_THROTTLE, LoginLimiter } from './login-limiter';
import { LoginThrottle } from './login-throttle';
import { SlidingWindowLimiter } from './sliding-window';

/**
 * The per-caller limit on every route of the app (needs the AuthModule's SessionResolver), the
 * policy guard for routes that declare one, and the log-in throttle.
 */
@Module({})
export class RateLimitModule {
  static forRoot(config: RateLimitConfig, service: string): DynamicModule {
    return {
      module: RateLimitModule,
      global: true,
      providers: [
        { provide: RATE_LIMIT_CONFIG, useValue: config },
        { provide: RATE_LIMIT_SERVICE, useValue: service },
        {
          provide: SlidingWindowLimiter,
          inject: [REDIS],
          useFactory: (redis: Redis) => new SlidingWindowLimiter(redis),
        },
        {
          provide: LOGIN_THROTTLE,
          inject: [REDIS],
          useFactory: (redis: Redis) =>
            new LoginThrottle(redis, {
              failuresBeforeBackoff: config.RATE_LIMIT_LOGIN_BACKOFF_AFTER,
              baseSeconds: config.RATE_LIMIT_LOGIN_BACKOFF_BASE_SECONDS,
              maxSeconds: config.RATE_LIMIT_LOGIN_BACKOFF_MAX_SECONDS,
              forgetSeconds: config.RATE_LIMIT_LOGIN_FORGET_SECONDS,
              perAddress: config.RATE_LIMIT_LOGIN_PER_IP,
            }),
        },
        LoginLimiter,
        RateLimitEnforcer,
        RateLimitGuard,
        { provide: APP_GUARD, useClass: CallerLimitGuard },
      ],
      exports: [
        RateLimitGuard,
        RateLimitEnforcer,
        RATE_LIMIT_CONFIG,
        SlidingWindowLimiter,
        LoginLimiter,
      ],
    };
  }
}
