import { createHash, randomBytes } from 'node:crypto';
import type { SessionConfig } from '@murmur/config';
import type { Redis, Result } from 'ioredis';
import { SESSION_CHANGES_CHANNEL, type SessionCache } from './session-cache';

export interface Session {
  userId: string;
  /** SHA-256 of the token, hex: the session's id in Redis */
  id: string;
  createdAt: number;
  /** WAL positions of this session's last writes, per cluster */
  lsn: Record<string, string>;
  /** epoch ms of the session's last write */
  lastWriteAt?: number;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** 256 bits from the OS CSPRNG, base64url: 43 characters. */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export const SESSION_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const sessionKey = (id: string): string => `session:${id}`;
const userIndexKey = (userId: string): string => `user-sessions:${userId}`;

/**
 * Read a session and slide its idle timeout in one round trip, never past its absolute expiry.
 * KEYS[1] session key; ARGV[1] now ms, ARGV[2] idle seconds. Returns the hash as a flat list.
 */
const TOUCH_SCRIPT = `
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return fields end
local expires = 0
for i = 1, #fields, 2 do
  if fields[i] == 'expiresAt' then expires = tonumber(fields[i + 1]) end
end
local remaining = math.floor((expires - tonumber(ARGV[1])) / 1000)
if remaining <= 0 then
  redis.call('DEL', KEYS[1])
  return {}
end
redis.call('EXPIRE', KEYS[1], math.min(tonumber(ARGV[2]), remaining))
return fields
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    murmurTouchSession(key: string, nowMs: string, idleSeconds: string): Result<string[], Context>;
  }
}

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly config: Pick<
      SessionConfig,
      'SESSION_IDLE_SECONDS' | 'SESSION_ABSOLUTE_SECONDS'
    >,
    private readonly clock: Clock = systemClock,
    /** sessions kept in this process between requests (absent: every touch asks Redis) */
    private readonly cache?: SessionCache,
  ) {
    // EVALSHA (loaded on first use): a request sends 40 bytes of hash, not the script's text, and
    // Redis does not hash the text again on every call.
    if (typeof (redis as Partial<Redis>).murmurTouchSession !== 'function') {
      redis.defineCommand('murmurTouchSession', { numberOfKeys: 1, lua: TOUCH_SCRIPT });
    }
  }

  /** A new session for a user; returns the token, which is never stored. */
  /**
   * `lsn`: WAL positions the session must see from its first read (e.g. the primary's position at
   * login), so a user who just signed up never reads an older state from a lagging replica.
   */
  async create(
    userId: string,
    lsn: Record<string, string> = {},
  ): Promise<{ token: string; session: Session; maxAgeSeconds: number }> {
    const token = newSessionToken();
    const id = hashToken(token);
    const now = this.clock.now();
    const expiresAt = now + this.config.SESSION_ABSOLUTE_SECONDS * 1000;
    const ttl = Math.min(this.config.SESSION_IDLE_SECONDS, this.config.SESSION_ABSOLUTE_SECONDS);
    await this.redis
      .multi()
      .hset(sessionKey(id), {
        userId,
        createdAt: String(now),
        expiresAt: String(expiresAt),
        ...Object.fromEntries(Object.entries(lsn).map(([cluster, pos]) => [`lsn:${cluster}`, pos])),
      })
      .expire(sessionKey(id), ttl)
      .sadd(userIndexKey(userId), id)
      .expire(userIndexKey(userId), this.config.SESSION_ABSOLUTE_SECONDS)
      .exec();
    return {
      token,
      session: { userId, id, createdAt: now, lsn },
      maxAgeSeconds: this.config.SESSION_ABSOLUTE_SECONDS,
    };
  }

  /** The session of a token, sliding its idle timeout; undefined if unknown or expired. */
  /**
   * `fromCache`: a copy this process holds may answer (reads). Writes pass false: they always
   * ask Redis, so a revoked session cannot write even before the revocation's message arrives,
   * and a write is refused (503) before it is made when Redis cannot take the session's next
   * write position.
   */
  async touch(token: string, options: { fromCache?: boolean } = {}): Promise<Session | undefined> {
    const id = hashToken(token);
    const cached = options.fromCache === false ? undefined : this.cache?.get(id);
    if (cached) {
      return cached;
    }
    const flat = await this.redis.murmurTouchSession(
      sessionKey(id),
      String(this.clock.now()),
      String(this.config.SESSION_IDLE_SECONDS),
    );
    if (flat.length === 0) {
      this.cache?.drop([id]);
      return undefined;
    }
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) {
      fields[flat[i]] = flat[i + 1];
    }
    const lsn: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields)) {
      if (k.startsWith('lsn:')) {
        lsn[k.slice(4)] = v;
      }
    }
    const lastWriteAt = fields.lastWriteAt === undefined ? undefined : Number(fields.lastWriteAt);
    const session = {
      userId: fields.userId,
      id,
      createdAt: Number(fields.createdAt),
      lsn,
      lastWriteAt,
    };
    this.cache?.put(session, Number(fields.expiresAt));
    return session;
  }

  /** Remember the WAL position of the session's latest write on a cluster (read-your-writes). */
  /**
   * Remember the WAL position of the session's latest write on a cluster (read-your-writes), and
   * announce it before the write is acknowledged, so that no process answers this session's next
   * read from a cached copy without it.
   */
  async rememberLsn(sessionId: string, cluster: string, lsn: string): Promise<void> {
    this.cache?.drop([sessionId]);
    await this.redis
      .multi()
      .hset(sessionKey(sessionId), `lsn:${cluster}`, lsn, 'lastWriteAt', String(this.clock.now()))
      .publish(SESSION_CHANGES_CHANNEL, sessionId)
      .exec();
  }

  async revoke(sessionId: string, userId: string): Promise<void> {
    this.cache?.drop([sessionId]);
    await this.redis
      .multi()
      .del(sessionKey(sessionId))
      .srem(userIndexKey(userId), sessionId)
      .publish(SESSION_CHANGES_CHANNEL, sessionId)
      .exec();
  }

  async close(): Promise<void> {
    await this.cache?.close();
  }

  /** Log out everywhere: every session of the user. */
  async revokeAll(userId: string): Promise<number> {
    const ids = await this.redis.smembers(userIndexKey(userId));
    if (ids.length === 0) {
      return 0;
    }
    this.cache?.drop(ids);
    await this.redis
      .multi()
      .del(...ids.map(sessionKey))
      .del(userIndexKey(userId))
      .publish(SESSION_CHANGES_CHANNEL, ids.join(','))
      .exec();
    return ids.length;
  }
}
