/** What every cache-bench scenario shares: the dev stack's endpoints, connections, formatting. */
import type { cacheLoadsTotal, cacheRequestsTotal } from '@murmur/cache';
import { createRedis } from '@murmur/redis';
import { buildTopology } from '@murmur/stack';
import type { Redis } from 'ioredis';
import { Pool } from 'pg';

/** The profile columns the user service caches (see services/user/src/users/users.repository). */
export const PROFILE_SQL = `SELECT id::text AS id, username, email, display_name, bio, follower_count,
  following_count, created_at, updated_at FROM users`;
export type Profile = Record<string, unknown>;

export const log = (line: string): void => void process.stderr.write(`[bench:cache] ${line}\n`);
export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : '–';
export const pct = (n: number): string => (Number.isFinite(n) ? `${(100 * n).toFixed(1)}%` : '–');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

export interface Endpoints {
  redisUrl: string;
  dataRedisUrl: string;
  replicaUrl: string;
}

/** What a scenario runs against: the dev stack's replica and cache Redis, and the seeded users. */
export interface BenchContext {
  endpoints: Endpoints;
  pool: Pool;
  redis: Redis;
  /** ids of seeded users */
  ids: string[];
  /** a token unique to this run, in every cache name, so runs never share keys */
  run: string;
}

export function endpoints(): Endpoints {
  const t = buildTopology({ profile: 'dev' });
  const cache = t.redis.find((r) => r.purpose === 'cache');
  const data = t.redis.find((r) => r.purpose === 'queue');
  const replica = t.postgres.find((p) => p.cluster === 'main' && p.role === 'replica');
  if (!cache || !data || !replica) {
    throw new Error('the dev topology has no cache Redis or main replica');
  }
  return {
    redisUrl: `redis://127.0.0.1:${cache.port}`,
    dataRedisUrl: `redis://127.0.0.1:${data.port}`,
    replicaUrl: `postgres://${t.database.user}@127.0.0.1:${replica.port}/${t.database.name}`,
  };
}

export async function connect(
  e: Endpoints,
  poolSize: number,
): Promise<{ pool: Pool; redis: Redis }> {
  const pool = new Pool({ connectionString: e.replicaUrl, max: poolSize });
  const redis = createRedis(e.redisUrl, 'cache', 'bench-cache');
  try {
    await pool.query('SELECT 1');
    if (redis.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        redis.once('ready', resolve);
        setTimeout(() => reject(new Error(`no Redis at ${e.redisUrl}`)), 3_000).unref();
      });
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    redis.disconnect();
    throw new Error(
      `the dev stack is not reachable (${error instanceof Error ? error.message : String(error)}): ` +
        'run `npm start` (or `npm run stack:up`) and `npm run seed` first',
    );
  }
  return { pool, redis };
}

/** One profile by id from the replica: the source every cached read stands in for. */
export const loadProfile = (pool: Pool, id: string): Promise<Profile | null> =>
  pool.query<Profile>(`${PROFILE_SQL} WHERE id = $1`, [id]).then((r) => r.rows[0] ?? null);

/** The profiles of `ids`, by id. */
export async function profilesOf(pool: Pool, ids: string[]): Promise<Array<[string, Profile]>> {
  const { rows } = await pool.query<Profile>(`${PROFILE_SQL} WHERE id = ANY($1::bigint[])`, [ids]);
  return rows.map((r) => [String(r.id), r]);
}

/** A counter's total over the samples whose labels match (this process's registry). */
export async function counterTotal(
  counter: typeof cacheLoadsTotal | typeof cacheRequestsTotal,
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) =>
      Object.entries(labels).every(([k, want]) => String(v.labels[k as never]) === want),
    )
    .reduce((sum, v) => sum + v.value, 0);
}
