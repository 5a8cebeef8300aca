/**
 * The Lua the Redis adapter runs: each a single atomic step on the server. Exercised on a real
 * Redis by `cache.integration-spec.ts` and `redis-remote-cache.integration-spec.ts`.
 */

/**
 * SET only if the stored version is not newer. KEYS[1]; ARGV: payload, version, ttl in ms (ms, so
 * the ±10% jitter of a short TTL is not rounded away).
 */
export const SET_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  local ver = ok and type(decoded) == 'table' and tonumber(decoded.ver)
  if ver and ver > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
`;

/**
 * Tag a key: SADD to the tag's set, keep the set alive at least as long as the entry, and prune
 * a few random members whose entry is gone, so a tag set does not grow forever (no KEYS, no full
 * scan). KEYS[1] tag set; ARGV: member, ttl seconds, sample size (0: no pruning, for entries that
 * are not in this Redis), entry key prefix.
 */
export const TAG_ADD = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if tonumber(ARGV[3]) > 0 then
  local sample = redis.call('SRANDMEMBER', KEYS[1], ARGV[3])
  for _, m in ipairs(sample) do
    if redis.call('EXISTS', ARGV[4] .. m) == 0 then redis.call('SREM', KEYS[1], m) end
  end
end
return 1
`;
export const TAG_PRUNE_SAMPLE = 3;

/**
 * Invalidate a batch of a tag: SPOP up to ARGV[1] members, delete their entries, return them.
 * KEYS[1] tag set; ARGV: batch, entry key prefix ('' = the entries are not in this Redis: pop only).
 */
export const TAG_POP = `
local members = redis.call('SPOP', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then
  for _, m in ipairs(members) do redis.call('DEL', ARGV[2] .. m) end
end
return members
`;

/** Remember when a tag was invalidated. KEYS[1]; ARGV: epoch ms, how long to remember (ms). */
export const TAG_MARK = 'return redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])';

/**
 * Before an early refresh: is L2's value already newer than the one this process holds (another
 * process refreshed it)? Then return it. Otherwise take the key's refresh lease (SET NX PX): 1 if
 * this process won and should load, 0 if another process is loading right now.
 * KEYS[1] entry, KEYS[2] lease; ARGV: expiry (ms) of the value held, lease ms, owner token.
 */
export const REFRESH_LEASE = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  local exp = ok and type(decoded) == 'table' and tonumber(decoded.exp)
  if exp and exp > tonumber(ARGV[1]) then return current end
end
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`;

/**
 * Delete an entry only if it still holds what was read (KEYS[1]; ARGV[1] the payload read): a
 * refused entry is removed without also removing a valid value written since.
 */
export const DELETE_IF_EQUAL = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
