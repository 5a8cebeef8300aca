import { Inject, Injectable } from '@nestjs/common';
import { decodeMember, encodeMember, type WindowPeriod, windowKey } from '@murmur/contracts';
import { projectWindowScores, type WindowScore } from '@murmur/rebuild';
import { REDIS } from '@murmur/redis';
import type { Redis, Result } from 'ioredis';
import type { Neighbourhood, RankedEntry } from './ranked-entry';

/**
 * A member's reverse rank and the slice of the board around it, in one step, so the rank and the
 * neighbours come from the same state of the board. KEYS[1] board. ARGV: member, span.
 * Returns false when the member is not on the board, else {rank0, from, flat member/score list}.
 */
const AROUND = `
local r = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if not r then return false end
local span = tonumber(ARGV[2])
local from = math.max(0, r - span)
return {r, from, redis.call('ZRANGE', KEYS[1], from, r + span, 'REV', 'WITHSCORES')}
`;

/**
 * Leaderboards as Redis sorted sets, one per board and window: O(log n) updates, top-N and a
 * member's rank in O(log n + N). Members are encoded (`encodeMember`) so that equal scores come
 * out lower id first, and ZREVRANK's rank is that same order's position.
 */
@Injectable()
export class LeaderboardRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {
    redis.defineCommand('murmurBoardAround', { numberOfKeys: 1, lua: AROUND });
  }

  async top(board: string, period: WindowPeriod, limit: number): Promise<RankedEntry[]> {
    const raw = await this.redis.zrange(
      windowKey(board, period),
      0,
      limit - 1,
      'REV',
      'WITHSCORES',
    );
    return entries(raw, 0);
  }

  async around(
    board: string,
    period: WindowPeriod,
    id: string,
    span: number,
  ): Promise<Neighbourhood | undefined> {
    const found = await this.redis.murmurBoardAround(
      windowKey(board, period),
      encodeMember(id),
      String(span),
    );
    if (!found) {
      return undefined;
    }
    const [rank0, from, raw] = found;
    const list = entries(raw, from);
    const member = list.find((e) => e.rank === rank0 + 1);
    return member ? { member, entries: list } : undefined;
  }

  /** Show a member's committed window scores on the boards (version-guarded: see the ledger). */
  async project(
    board: string,
    memberId: string,
    version: number,
    windows: readonly WindowScore[],
  ): Promise<void> {
    await projectWindowScores(this.redis, board, memberId, version, windows);
  }
}

function entries(raw: string[], from: number): RankedEntry[] {
  const list: RankedEntry[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    list.push({ id: decodeMember(raw[i]), score: Number(raw[i + 1]), rank: from + i / 2 + 1 });
  }
  return list;
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    murmurBoardAround(
      key: string,
      member: string,
      span: string,
    ): Result<[number, number, string[]] | null, Context>;
  }
}
