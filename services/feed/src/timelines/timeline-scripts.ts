import type { Redis, Result } from 'ioredis';

/**
 * The Lua scripts behind materialised timelines (docs/patterns/fan-out.md, "Idle timelines"),
 * shared by their two sides, fan-out writes (`fanout/`) and page reads (`feed/`): neither owns
 * the other. A timeline exists only for a reader who has read their feed within `TIMELINE_IDLE_TTL_SECONDS`:
 * a read refreshes its expiry, a read that finds none merges it from the authored lists, and
 * fan-out writes only into timelines that exist. The data Redis is one instance, so the merge may
 * name the authored lists it reads itself (a cluster would need them in KEYS).
 */

/**
 * Every entry a page after the cursor can hold, from one sorted set: all entries at the cursor's
 * ms (Redis orders equal scores by member bytes, not by post id as `newestFirst` does, so none of
 * them can be cut), the first `limit` strictly older, and all entries at the ms of the last of
 * those (the same tie at the far edge). `pageOf` then orders them and drops what an earlier page
 * held; nothing the page should show can be missing however many posts share one ms.
 * Used as a function body: KEYS[1] the set; ARGV[1] the cursor's score ('' for the first page),
 * ARGV[2] the page's limit.
 */
const PAGE_CANDIDATES = `
local function candidates(key, cursorScore, limit)
  local out = {}
  local function add(r) for i = 1, #r do out[#out + 1] = r[i] end end
  local top = '+inf'
  if cursorScore ~= '' then
    add(redis.call('ZRANGE', key, cursorScore, cursorScore, 'BYSCORE', 'WITHSCORES'))
    top = '(' .. cursorScore
  end
  local older = redis.call('ZRANGE', key, top, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, limit, 'WITHSCORES')
  add(older)
  if #older == 2 * limit then
    local edge = older[#older]
    add(redis.call('ZRANGE', key, edge, edge, 'BYSCORE', 'WITHSCORES'))
  end
  return out
end
`;

/** A page's candidates of one sorted set (fan-in reads one per list, pipelined). */
const READ_CANDIDATES = `${PAGE_CANDIDATES}
return candidates(KEYS[1], ARGV[1], tonumber(ARGV[2]))
`;

/**
 * A page's candidates of a timeline, refreshing its expiry; nil if there is no timeline. The
 * expiry is written only once it has run down by 1% of the TTL (about 100 minutes of 7 days), so
 * a reader paging through their feed costs no write, and no AOF entry, per page.
 * KEYS[1] timeline; ARGV: the cursor's score ('' for the first page), limit, idle TTL s (0 = none).
 */
const READ_TIMELINE = `${PAGE_CANDIDATES}
local left = redis.call('PTTL', KEYS[1])
if left == -2 then return false end
local ttlMs = tonumber(ARGV[3]) * 1000
if ttlMs > 0 and left < ttlMs * 0.99 then redis.call('PEXPIRE', KEYS[1], ttlMs) end
return candidates(KEYS[1], ARGV[1], tonumber(ARGV[2]))
`;

/**
 * Merge a reader's timeline from their own authored list and those of at most `max followees`
 * of their following set (the ones SSCAN returns first, as fan-in reads), keep the newest
 * `timeline max`, and set its expiry. A merge that finds no post stores the sentinel, so that the
 * timeline exists and fan-out reaches it. In one script, so a follow, an unfollow or a push
 * applied around it lands either before the merge (and is in it) or after (and finds the
 * timeline). Refused (-1) while the derived state is incomplete (a rebuild runs): the lists it
 * would merge may not be back yet. Returns the entries stored, or -2 if the timeline existed.
 * KEYS[1] timeline, KEYS[2] following set, KEYS[3] the derived-state marker;
 * ARGV: authored-list key prefix, reader id, max followees, timeline max, idle TTL s, sentinel.
 */
const MATERIALISE_TIMELINE = `
if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
if redis.call('EXISTS', KEYS[1]) == 1 then return -2 end
local prefix, maxFollowees, max = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4])
local function merge(sources)
  if #sources == 0 then return end
  local args = { KEYS[1], #sources + 1, KEYS[1] }
  for _, key in ipairs(sources) do args[#args + 1] = key end
  args[#args + 1] = 'AGGREGATE'
  args[#args + 1] = 'MAX'
  redis.call('ZUNIONSTORE', unpack(args))
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(max + 1))
end
local sources, followees, cursor = { prefix .. ARGV[2] }, 0, '0'
repeat
  local page = redis.call('SSCAN', KEYS[2], cursor, 'COUNT', 500)
  cursor = page[1]
  for _, id in ipairs(page[2]) do
    if followees == maxFollowees then break end
    followees = followees + 1
    sources[#sources + 1] = prefix .. id
    if #sources == 200 then merge(sources); sources = {} end
  end
until cursor == '0' or followees == maxFollowees
merge(sources)
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZADD', KEYS[1], 0, ARGV[6]) end
if tonumber(ARGV[5]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
return redis.call('ZCARD', KEYS[1])
`;

/**
 * Push a post into the timelines that exist (materialised ones) and trim each to its newest
 * `max`; a timeline nobody has read lately is not written (its reader's next read merges it).
 * ZADD of the same member and score is a no-op, so a redelivered job changes nothing.
 * KEYS: timelines; ARGV: score, post id, max. Returns how many timelines were written.
 */
const PUSH_TO_LIVE = `
local written = 0
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2])
    redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -(tonumber(ARGV[3]) + 1))
    written = written + 1
  end
end
return written
`;

/**
 * Copy an author's newest posts into a timeline that exists, and trim it (a follow's backfill):
 * a timeline that is not materialised gets them when it is merged. KEYS[1] authored list,
 * KEYS[2] timeline; ARGV: how many posts, timeline max. Returns how many were copied.
 */
const BACKFILL_LIVE = `
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
local posts = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'REV', 'WITHSCORES')
for i = 1, #posts, 2 do redis.call('ZADD', KEYS[2], posts[i + 1], posts[i]) end
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 1))
return #posts / 2
`;

/** What the materialising script answers besides a count. */
export const MATERIALISE_REFUSED = -1;
export const MATERIALISE_EXISTED = -2;

/** Define the scripts on a connection (EVALSHA, loaded on first use); idempotent. */
export function withTimelineScripts(redis: Redis): Redis {
  if (typeof (redis as Partial<Redis>).murmurReadTimeline !== 'function') {
    redis.defineCommand('murmurReadTimeline', { numberOfKeys: 1, lua: READ_TIMELINE });
    redis.defineCommand('murmurPageCandidates', { numberOfKeys: 1, lua: READ_CANDIDATES });
    redis.defineCommand('murmurMaterialiseTimeline', {
      numberOfKeys: 3,
      lua: MATERIALISE_TIMELINE,
    });
    redis.defineCommand('murmurPushToLive', { lua: PUSH_TO_LIVE });
    redis.defineCommand('murmurBackfillLive', { numberOfKeys: 2, lua: BACKFILL_LIVE });
  }
  return redis;
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    murmurReadTimeline(
      key: string,
      cursorScore: string,
      limit: number,
      ttlSeconds: number,
    ): Result<string[] | null, Context>;
    murmurPageCandidates(
      key: string,
      cursorScore: string,
      limit: number,
    ): Result<string[], Context>;
    murmurMaterialiseTimeline(
      timeline: string,
      following: string,
      marker: string,
      authoredPrefix: string,
      userId: string,
      maxFollowees: number,
      timelineMax: number,
      ttlSeconds: number,
      sentinel: string,
    ): Result<number, Context>;
    murmurPushToLive(
      numKeys: number,
      ...keysAndArgs: Array<string | number>
    ): Result<number, Context>;
    murmurBackfillLive(
      authored: string,
      timeline: string,
      count: number,
      max: number,
    ): Result<number, Context>;
  }
}
