import { createHash, randomBytes } from 'node:crypto';
import type { Redis, Result } from 'ioredis';
import type { RateLimitRule } from './sliding-window';

/**
 * Brute-force protection for log-in (OWASP Authentication Cheat Sheet: "login throttling"), in
 * two parts that count failed attempts only, so that successful log-ins never lock anyone out:
 *
 * - **per account**: after `failuresBeforeBackoff` failed attempts in a row on one username,
 *   each further attempt must wait (`baseSeconds`, doubling per failure, at most `maxSeconds`)
 *   after the one before; an attempt inside the wait is refused before the password is checked,
 *   even with the right password (else the wait would not slow a guesser down). A successful
 *   log-in clears the count; so does `forgetSeconds` without a failure. Unknown usernames are
 *   counted like known ones, so the answer says nothing about which accounts exist.
 * - **per client address**: at most `perAddress.limit` failed attempts per window over all
 *   usernames (credential stuffing from one address). Behind a proxy every client must have its
 *   own address (TRUST_PROXY_ADDRESSES), or one attacker's failures refuse its neighbours.
 *
 * Every attempt is counted as a failure when it starts, atomically with the check (one Lua
 * script), and a successful one takes its count back: a burst of parallel guesses cannot all pass
 * the check before the first failure is recorded. The clock is Redis's (TIME).
 */
export interface LoginThrottleRules {
  failuresBeforeBackoff: number;
  baseSeconds: number;
  maxSeconds: number;
  forgetSeconds: number;
  perAddress: RateLimitRule;
}

export type LoginAttempt =
  | { admitted: true; /** give it to succeeded() */ ticket: LoginTicket }
  | { admitted: false; by: 'account' | 'address'; retryAfterSeconds: number };

export interface LoginTicket {
  accountKey: string;
  addressKey: string;
  member: string;
  /** the account's failures in a row before this attempt */
  failuresBefore: number;
}

/**
 * KEYS[1] the account's hash {failures, until}, KEYS[2] the address's sorted set of failures.
 * ARGV: member, failures before backoff, base ms, max ms, forget ms, address limit, window ms.
 * Returns {1, failures before} when admitted, {0, 1, wait ms} (account) or {0, 2, wait ms}.
 */
const BEGIN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local threshold = tonumber(ARGV[2])
local base = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local forget = tonumber(ARGV[5])
local limit = tonumber(ARGV[6])
local window = tonumber(ARGV[7])
local state = redis.call('HMGET', KEYS[1], 'failures', 'until')
local failures = tonumber(state[1]) or 0
local untilMs = tonumber(state[2]) or 0
if now < untilMs then
  return {0, 1, untilMs - now}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
if redis.call('ZCARD', KEYS[2]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {0, 2, tonumber(oldest[2]) + window - now}
end
local after = failures + 1
local wait = 0
if after >= threshold then
  wait = math.min(max, base * 2 ^ (after - threshold))
end
redis.call('HSET', KEYS[1], 'failures', after, 'until', math.floor(now + wait))
redis.call('PEXPIRE', KEYS[1], math.max(forget, wait))
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PEXPIRE', KEYS[2], window)
return {1, failures, 0}
`;

/** KEYS[1] the account, KEYS[2] the address; ARGV[1] the attempt's member. */
const SUCCEEDED = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    murmurLoginBegin(
      account: string,
      address: string,
      member: string,
      threshold: string,
      baseMs: string,
      maxMs: string,
      forgetMs: string,
      limit: string,
      windowMs: string,
    ): Result<[number, number, number], Context>;
    murmurLoginSucceeded(account: string, address: string, member: string): Result<number, Context>;
  }
}

export class LoginThrottle {
  private readonly nonce = randomBytes(6).toString('hex');
  private sequence = 0;

  constructor(
    private readonly redis: Redis,
    private readonly rules: LoginThrottleRules,
  ) {
    if (typeof (redis as Partial<Redis>).murmurLoginBegin !== 'function') {
      redis.defineCommand('murmurLoginBegin', { numberOfKeys: 2, lua: BEGIN });
      redis.defineCommand('murmurLoginSucceeded', { numberOfKeys: 2, lua: SUCCEEDED });
    }
  }

  /**
   * Check an attempt on `username` from `address` and count it as a failure until succeeded()
   * says otherwise. The username is hashed (case-folded) for the key: any string a client sends
   * becomes a fixed-size key, and usernames do not appear in Redis.
   */
  async begin(username: string, address: string): Promise<LoginAttempt> {
    const accountKey = `login:fail:account:${createHash('sha256')
      .update(username.toLowerCase())
      .digest('base64url')}`;
    const addressKey = `login:fail:ip:${address}`;
    this.sequence = (this.sequence + 1) % Number.MAX_SAFE_INTEGER;
    const member = `${this.nonce}.${this.sequence}`;
    const r = this.rules;
    const [admitted, detail, waitMs] = await this.redis.murmurLoginBegin(
      accountKey,
      addressKey,
      member,
      String(r.failuresBeforeBackoff),
      String(r.baseSeconds * 1000),
      String(r.maxSeconds * 1000),
      String(r.forgetSeconds * 1000),
      String(r.perAddress.limit),
      String(r.perAddress.windowSeconds * 1000),
    );
    if (admitted === 1) {
      return { admitted: true, ticket: { accountKey, addressKey, member, failuresBefore: detail } };
    }
    return {
      admitted: false,
      by: detail === 1 ? 'account' : 'address',
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
    };
  }

  /** The attempt was right: the account's count starts again, the address's loses this one. */
  async succeeded(ticket: LoginTicket): Promise<void> {
    await this.redis.murmurLoginSucceeded(ticket.accountKey, ticket.addressKey, ticket.member);
  }
}
