import type { z } from 'zod';
import {
  baseConfigSchema,
  type BaseConfig,
  cacheConfigSchema,
  httpConfigSchema,
  type HttpConfig,
  mainDatabaseConfigSchema,
  outboxConfigSchema,
  queueConfigSchema,
  rateLimitConfigSchema,
  redisConfigSchema,
  type RedisConfig,
  sessionConfigSchema,
  shardDatabaseConfigSchema,
} from './config-schemas';

/**
 * The shared parts a process can be made of, each with the variables it reads. An entry point
 * names the parts it runs; its schema is theirs plus its features' own, so it requires nothing
 * that a part it does not run would read. The service composition (`serviceModule` in
 * `@murmur/http`) reads the same list to decide which modules to start.
 */
export const CONFIG_PARTS = {
  /** the main Postgres cluster (users, follows, leaderboard history) */
  mainDatabase: mainDatabaseConfigSchema,
  /** the post shards */
  shards: shardDatabaseConfigSchema,
  /** named L1/L2 caches */
  cache: cacheConfigSchema,
  /** session cookies checked on requests */
  sessions: sessionConfigSchema,
  /** per-route ceilings and rate-limit policies */
  rateLimits: rateLimitConfigSchema,
  /** BullMQ queues (producers and processors) */
  queues: queueConfigSchema,
  /** the relay of the outboxes of the databases the process opens */
  outbox: outboxConfigSchema,
} as const;

export type ConfigPart = keyof typeof CONFIG_PARTS;

/** What every process reads: identity, logging, tracing, its HTTP server, the data Redis. */
export type ProcessConfig = BaseConfig & HttpConfig & RedisConfig;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (
  i: infer I,
) => void
  ? I
  : never;

/** The config of the parts `P` together (unknown, the neutral element, for none). */
export type PartsConfig<P extends ConfigPart> = UnionToIntersection<
  P extends ConfigPart ? z.infer<(typeof CONFIG_PARTS)[P]> : never
>;

/** The config of an entry point's own variables (none: unknown, the neutral element). */
type OwnConfig<S extends z.ZodRawShape> = keyof S extends never ? unknown : z.infer<z.ZodObject<S>>;

/** One entry point's configuration: the parts it runs and the schema that validates it. */
export interface EntryPointConfig<P extends ConfigPart, C extends ProcessConfig> {
  readonly parts: readonly P[];
  readonly schema: z.ZodType<C>;
  /** every variable it reads */
  readonly variables: readonly string[];
}

/** Any entry point's config, as far as reading its variables goes. */
type AnyEntryPoint = { readonly schema: z.ZodType; readonly variables: readonly string[] };

/** The validated config of an entry point. */
export type ConfigOf<E> = E extends EntryPointConfig<ConfigPart, infer C> ? C : never;

/**
 * The configuration of an entry point (a `main.ts` or a `worker.ts`) that runs `parts` and whose
 * own features read the variables of `own`.
 */
export function entryPointConfig<
  P extends ConfigPart,
  S extends z.ZodRawShape = Record<never, z.ZodType>,
>(
  parts: readonly P[],
  own?: S,
): EntryPointConfig<P, ProcessConfig & PartsConfig<P> & OwnConfig<S>> {
  let schema = baseConfigSchema.extend(httpConfigSchema.shape).extend(redisConfigSchema.shape);
  for (const part of parts) {
    schema = schema.extend(CONFIG_PARTS[part].shape);
  }
  const full = schema.extend(own ?? {});
  return {
    parts,
    variables: Object.keys(full.shape),
    // The runtime schema is the fold above; zod cannot type a fold over a list, so the result
    // type is stated once here, from the same parts.
    schema: full as unknown as z.ZodType<ProcessConfig & PartsConfig<P> & OwnConfig<S>>,
  };
}

/** The variables an entry point cannot start without (they have no default): what to deploy. */
export function requiredVariables(entry: Pick<AnyEntryPoint, 'schema'>): string[] {
  const result = entry.schema.safeParse({});
  return result.success ? [] : [...new Set(result.error.issues.map((i) => String(i.path[0])))];
}

/**
 * How an environment fits an entry point: the required variables it lacks, the variables it sets
 * that the entry point never reads, and the problems loading it would report. All empty: the
 * entry point starts from exactly that environment.
 */
export function environmentFit(
  entry: AnyEntryPoint,
  env: Record<string, string>,
): { missing: string[]; unread: string[]; problems: string[] } {
  const loaded = entry.schema.safeParse(env);
  return {
    missing: requiredVariables(entry).filter((name) => !(name in env)),
    unread: Object.keys(env).filter((name) => !entry.variables.includes(name)),
    problems: loaded.success ? [] : loaded.error.issues.map((i) => i.path.join('.')),
  };
}
