import {
  composePostId,
  fnv1a32,
  LOGICAL_SHARDS,
  logicalShardForUser,
  logicalShardOfPostId,
  parseId,
  shardSchema,
  timestampOfPostId,
} from './post-id';

describe('post ids', () => {
  it('encode the logical shard and the time, and decode back', () => {
    const ms = Date.parse('2026-11-23T10:00:00.123Z');
    const id = composePostId(ms, 37, 1023);
    expect(logicalShardOfPostId(id)).toBe(37);
    expect(timestampOfPostId(id).getTime()).toBe(ms);
  });

  it('sort by time across shards', () => {
    const earlier = composePostId(Date.parse('2026-11-23T10:00:00Z'), 63, 1023);
    const later = composePostId(Date.parse('2026-11-23T10:00:00.001Z'), 0, 0);
    expect(later > earlier).toBe(true);
  });

  it('parse only positive 64-bit decimals', () => {
    expect(parseId('42')).toBe(42n);
    expect(parseId('9223372036854775807')).toBe(9223372036854775807n);
    expect(parseId('9223372036854775808')).toBeUndefined();
    for (const bad of ['0', '-1', '1e3', '01', 'abc', '', '1'.repeat(20), '12 ']) {
      expect(parseId(bad)).toBeUndefined();
    }
  });
});

describe(logicalShardForUser.name, () => {
  it('is stable and spreads users over every logical shard', () => {
    expect(logicalShardForUser('12345')).toBe(logicalShardForUser(12345n));
    const seen = new Set<number>();
    for (let i = 1; i <= 5000; i++) {
      seen.add(logicalShardForUser(String(i)));
    }
    expect(seen.size).toBe(LOGICAL_SHARDS);
  });

  it('uses FNV-1a (known vector)', () => {
    expect(fnv1a32('a')).toBe(0xe40c292c);
  });
});

describe(shardSchema.name, () => {
  it('names schemas with two digits and refuses out-of-range shards', () => {
    expect(shardSchema(5)).toBe('shard_05');
    expect(() => shardSchema(64)).toThrow(RangeError);
    expect(() => shardSchema(-1)).toThrow(RangeError);
  });
});
