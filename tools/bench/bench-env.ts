/**
 * The environment the benchmarks start the dev stack with. One load generator is one client
 * address and a few hundred sessions, where real traffic comes from many of both: the limits such
 * a generator would trip by itself are raised, and the capacity mode raises only those.
 */
import { rateLimitConfigSchema } from '@murmur/config';

/**
 * Every `npm run bench` configuration shares these: limits raised so that the bench measures the
 * services, not its own refusals (the checks still run, so their cost stays in every figure), and
 * the edge `limit_req` zones and `limit_conn` off (one client address would trip them).
 */
export const BENCH_ENV: Record<string, string> = {
  RATE_LIMIT_LOGIN_PER_IP: '100000/60',
  RATE_LIMIT_SIGNUP_PER_IP: '100000/60',
  RATE_LIMIT_WRITES_PER_USER: '999999/1',
  RATE_LIMIT_PER_USER: '999999/1',
  RATE_LIMIT_PER_ADDRESS: '999999/1',
  EDGE_RATE_PER_IP: 'off',
  EDGE_AUTH_RATE_PER_IP: 'off',
  // The closed loops' 50–200 connections stay under the per-address limit (512 in progress), but
  // the capacity mode's open loop above the knee has more than that in flight from one address.
  EDGE_CONN_PER_IP: 'off',
  // A production-like sampling rate: 10% of the traces started at the edge, every span of them.
  OTEL_TRACES_SAMPLER_ARG: '0.1',
};

/**
 * What one load-generating machine trips and a crowd of users does not: the limits keyed by
 * client address, and the per-user share (a few hundred sessions stand for many more users).
 */
const PER_ADDRESS = [
  'RATE_LIMIT_LOGIN_PER_IP',
  'RATE_LIMIT_SIGNUP_PER_IP',
  'RATE_LIMIT_PER_ADDRESS',
  'RATE_LIMIT_PER_USER',
  'EDGE_RATE_PER_IP',
  'EDGE_AUTH_RATE_PER_IP',
  'EDGE_CONN_PER_IP',
];

/**
 * `npm run bench -- --capacity`: production limits except the per-address ones. The per-user
 * write limit keeps its default, so its 429s are part of what the capacity report counts as shed
 * load.
 */
export const CAPACITY_ENV: Record<string, string> = Object.fromEntries(
  Object.entries(BENCH_ENV).filter(
    ([k]) => PER_ADDRESS.includes(k) || k === 'OTEL_TRACES_SAMPLER_ARG',
  ),
);

/** The production limits the capacity mode keeps, as `NAME=N/S` (their schema defaults). */
export function keptLimits(): string[] {
  const defaults = rateLimitConfigSchema.parse({});
  return (['RATE_LIMIT_WRITES_PER_USER'] as const).map(
    (k) => `${k}=${defaults[k].limit}/${defaults[k].windowSeconds}`,
  );
}
