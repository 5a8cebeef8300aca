import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import { authoredKey, followingKey } from './feed-keys';
import { pageOf, type TimelineEntry } from './feed-page';
import { readWindows } from './timeline.repository';
import type { TimelineSource } from './timeline-source';

export const FANIN_MAX_FOLLOWEES = Symbol('FANIN_MAX_FOLLOWEES');

/** SSCAN's COUNT hint while reading a following set. */
const SCAN_BATCH = 500;

/**
 * Fan-in at read (`FANOUT_ON_WRITE=false`): a page is merged from the reader's own post list and
 * those of the users they follow (`feed:authored:<id>`, one pipeline of sorted-set reads), so a
 * new post costs one write whatever the author's follower count, and a read costs one sorted-set
 * read per followee.
 */
@Injectable()
export class FaninRepository implements TimelineSource {
  readonly mode = 'fan-in';

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(FANIN_MAX_FOLLOWEES) private readonly maxFollowees: number,
  ) {}

  describe(): string {
    return `fan-in at read (FANOUT_ON_WRITE=false): a page merges feed:authored:* of the reader and at most ${this.maxFollowees} followees`;
  }

  async page(userId: string, limit: number, cursor?: TimelineEntry): Promise<TimelineEntry[]> {
    const authors = new Set([userId, ...(await this.followees(userId))]);
    const keys = [...authors].map(authoredKey);
    return pageOf(await readWindows(this.redis, keys, limit, cursor), limit, cursor);
  }

  /**
   * Whom the user follows, at most `maxFollowees` of them: the first ones SSCAN returns, so a
   * huge following set costs a bounded read (never SMEMBERS). Past the bound the choice is
   * SSCAN's order: for a set of up to 512 integer ids (an intset) the lowest ids, beyond that the
   * hash table's order, which stays the same from page to page while the set is unchanged.
   */
  async followees(userId: string): Promise<string[]> {
    const found = new Set<string>();
    let cursor = '0';
    do {
      const [next, members] = await this.redis.sscan(
        followingKey(userId),
        cursor,
        'COUNT',
        Math.min(this.maxFollowees, SCAN_BATCH),
      );
      for (const member of members) {
        if (found.size === this.maxFollowees) {
          break;
        }
        found.add(member);
      }
      cursor = next;
    } while (cursor !== '0' && found.size < this.maxFollowees);
    return [...found];
  }
}
