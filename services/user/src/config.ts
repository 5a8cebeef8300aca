import { type ConfigOf, entryPointConfig } from '@murmur/config';
import { z } from 'zod';

/**
 * The user API (`main.ts`, the service's only entry point): users, credentials, sessions and the
 * follow graph on the main database, profiles behind the cache, and the relay of its outbox
 * (follow events → the feed).
 */
export const userApiConfig = entryPointConfig(
  ['mainDatabase', 'cache', 'sessions', 'rateLimits', 'queues', 'outbox'],
  {
    /** argon2id cost; defaults are OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane) */
    ARGON2_MEMORY_KIB: z.coerce.number().int().min(8192).default(19_456),
    ARGON2_TIME_COST: z.coerce.number().int().min(1).default(2),
  },
);

export type UserApiConfig = ConfigOf<typeof userApiConfig>;
