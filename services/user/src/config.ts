import {
  baseConfigSchema,
  cacheConfigSchema,
  httpConfigSchema,
  loadConfig,
  mainDatabaseConfigSchema,
  queueConfigSchema,
  rateLimitConfigSchema,
  redisConfigSchema,
  sessionConfigSchema,
} from '@murmur/config';
import { z } from 'zod';

export const userConfigSchema = baseConfigSchema
  .extend(httpConfigSchema.shape)
  .extend(mainDatabaseConfigSchema.shape)
  .extend(redisConfigSchema.shape)
  .extend(sessionConfigSchema.shape)
  .extend(cacheConfigSchema.shape)
  .extend(queueConfigSchema.shape)
  .extend(rateLimitConfigSchema.shape)
  .extend({
    /** argon2id cost; defaults are OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane) */
    ARGON2_MEMORY_KIB: z.coerce.number().int().min(8192).default(19_456),
    ARGON2_TIME_COST: z.coerce.number().int().min(1).default(2),
    /** cookies get `Secure` unless this is off (plain-HTTP local development) */
    COOKIE_SECURE: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
  });

export type UserConfig = z.infer<typeof userConfigSchema>;

export const loadUserConfig = (): UserConfig => loadConfig(userConfigSchema);
