import { type DynamicModule, Module, type OnModuleDestroy } from '@nestjs/common';
import type { SessionConfig } from '@murmur/config';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import { AuthGuard, OptionalAuthGuard } from './auth.guard';
import { CREDENTIAL_OPTIONS, SessionResolver, sessionCookieName } from './credentials';
import { SessionCache } from './session-cache';
import { SessionStore, systemClock } from './session-store';

/** Closes the session cache's subscriber with the app. */
class ClosingSessionStore extends SessionStore implements OnModuleDestroy {
  onModuleDestroy(): Promise<void> {
    return this.close();
  }
}

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
          useFactory: (redis: Redis) =>
            new ClosingSessionStore(
              redis,
              config,
              systemClock,
              config.SESSION_CACHE_TTL_MS > 0
                ? new SessionCache(redis.duplicate(), {
                    ttlMs: config.SESSION_CACHE_TTL_MS,
                    maxEntries: config.SESSION_CACHE_MAX_ENTRIES,
                  })
                : undefined,
            ),
        },
        {
          provide: CREDENTIAL_OPTIONS,
          useValue: {
            cookieName: sessionCookieName(config.COOKIE_SECURE),
            trustedOrigins: config.CSRF_TRUSTED_ORIGINS,
          },
        },
        SessionResolver,
        AuthGuard,
        OptionalAuthGuard,
      ],
      exports: [SessionStore, SessionResolver, AuthGuard, OptionalAuthGuard],
    };
  }
}
