import { randomBytes } from 'node:crypto';
import type { Redis, Result } from 'ioredis';

export interface RateLimitRule {
  /** requests admitted per window */
  limit: number;
  windowSeconds: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** seconds until the window has room again (RateLimit-Reset, Retry-After) */
  resetSeconds: number;
}

/**
 * Sliding-window log, exact: every admitted request is a member of a sorted set scored by its
 * time; a request is admitted when fewer than `limit` members are younger than the window.
 * Check-and-add is one Lua script, so concurrent requests from every process of a service admit
 * exactly `limit`. The clock is Redis's (TIME), so processes with skewed clocks agree.
 * KEYS[1] the key; ARGV: limit, window ms, a unique member suffix.
 */
const SLIDING_WINDOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {1, limit - count - 1, tonumber(oldest[2]) + window - now}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window - now}
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    murmurSlidingWindow(
      key: string,
      limit: string,
      windowMs: string,
      member: string,
    ): Result<[number, number, number], Context>;
  }
}

export class SlidingWindowLimiter {
  /**
   * Members must be unique across every process (two requests in the same millisecond are two
   * members): a random prefix per limiter and a counter, rather than random bytes per request.
   */
  private readonly nonce = randomBytes(6).toString('hex');
  private sequence = 0;

  constructor(private readonly redis: Redis) {
    // EVALSHA (loaded on first use): every request runs this script, so it sends the hash, not
    // the text, and Redis does not hash the text again.
    if (typeof (redis as Partial<Redis>).murmurSlidingWindow !== 'function') {
      redis.defineCommand('murmurSlidingWindow', { numberOfKeys: 1, lua: SLIDING_WINDOW });
    }
  }

  async consume(key: string, rule: RateLimitRule): Promise<RateLimitDecision> {
    this.sequence = (this.sequence + 1) % Number.MAX_SAFE_INTEGER;
    const [allowed, remaining, resetMs] = await this.redis.murmurSlidingWindow(
      `ratelimit:${key}`,
      String(rule.limit),
      String(rule.windowSeconds * 1000),
      `${this.nonce}.${this.sequence}`,
    );
    return {
      allowed: allowed === 1,
      limit: rule.limit,
      remaining: Math.max(0, remaining),
      resetSeconds: Math.max(1, Math.ceil(resetMs / 1000)),
    };
  }
}
