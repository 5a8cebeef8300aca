/**
 * Post ids, Instagram-style: 64 bits = 41 bits of milliseconds since EPOCH | 13 bits of logical
 * shard | 10 bits of a per-shard sequence. They sort by time, and the shard of a post can be read
 * from its id without a lookup. Ids are generated inside Postgres (`shard_NN.next_id()`), so every
 * process and every physical shard hands out unique ids without coordination.
 */
export const LOGICAL_SHARDS = 64;
export const ID_EPOCH_MS = 1_767_225_600_000n; // 2026-01-01T00:00:00Z
const SHARD_BITS = 13n;
const SEQ_BITS = 10n;

export function logicalShardOfPostId(id: bigint): number {
  return Number((id >> SEQ_BITS) & ((1n << SHARD_BITS) - 1n));
}

export function timestampOfPostId(id: bigint): Date {
  return new Date(Number((id >> (SHARD_BITS + SEQ_BITS)) + ID_EPOCH_MS));
}

/** Only used to build ids in tests and tools; real ids come from the database. */
export function composePostId(ms: number, logicalShard: number, seq: number): bigint {
  return (
    ((BigInt(ms) - ID_EPOCH_MS) << (SHARD_BITS + SEQ_BITS)) |
    (BigInt(logicalShard) << SEQ_BITS) |
    BigInt(seq % 1024)
  );
}

/** Could this id have been made by one of our shards? (its shard bits name an existing logical shard) */
export function isKnownShardId(id: bigint): boolean {
  return logicalShardOfPostId(id) < LOGICAL_SHARDS;
}

/** Parse an id from a URL or a message: a positive decimal that fits a signed 64-bit integer. */
export function parseId(raw: string): bigint | undefined {
  if (!/^[1-9][0-9]{0,18}$/.test(raw)) {
    return undefined;
  }
  const id = BigInt(raw);
  return id <= 9_223_372_036_854_775_807n ? id : undefined;
}

/** FNV-1a, 32 bit: a stable, well-spread hash that every language can reproduce. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The logical shard that holds every post of an author. */
export function logicalShardForUser(userId: string | bigint): number {
  return fnv1a32(String(userId)) % LOGICAL_SHARDS;
}

export function shardSchema(logicalShard: number): string {
  if (!Number.isInteger(logicalShard) || logicalShard < 0 || logicalShard >= LOGICAL_SHARDS) {
    throw new RangeError(`logical shard out of range: ${logicalShard}`);
  }
  return `shard_${String(logicalShard).padStart(2, '0')}`;
}
