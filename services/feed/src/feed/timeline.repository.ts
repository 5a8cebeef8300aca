import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@murmur/redis';
import type { Redis } from 'ioredis';
import { DERIVED_KEYS, TIMELINE_SENTINEL } from '@murmur/contracts';
import { authoredKey, followingKey, timelineKey } from './feed-keys';
import { fromWithScores, pageOf, type TimelineEntry } from './feed-page';
import { rebuildingError } from './feed.errors';
import { timelineMaterialisationsTotal } from './feed.metrics';
import {
  MATERIALISE_EXISTED,
  MATERIALISE_REFUSED,
  withTimelineScripts,
} from '../timelines/timeline-scripts';
import type { TimelineSource } from './timeline-source';

export const TIMELINE_READ_OPTIONS = Symbol('TIMELINE_READ_OPTIONS');

export interface TimelineReadOptions {
  /** TIMELINE_MAX */
  timelineMax: number;
  /** TIMELINE_IDLE_TTL_SECONDS (0 = timelines never expire) */
  idleTtlSeconds: number;
  /** FANIN_MAX_FOLLOWEES: a timeline is merged from at most this many followees, as fan-in */
  maxFollowees: number;
}

const AUTHORED_PREFIX = authoredKey('');

/**
 * Fan-out on write, the read side: home timelines are one Redis sorted set per reader, post ids
 * scored by time and capped in length, filled by the feed worker. A timeline is materialised on
 * its reader's first read (merged from the authored lists, as fan-in reads them) and expires
 * after `idleTtlSeconds` unread; the worker writes only into timelines that exist. A page is one
 * script call that also refreshes the expiry; a reader without a timeline pays one merge more.
 */
@Injectable()
export class TimelineRepository implements TimelineSource {
  readonly mode = 'fan-out';
  private readonly redis: Redis;

  constructor(
    @Inject(REDIS) redis: Redis,
    @Inject(TIMELINE_READ_OPTIONS) private readonly options: TimelineReadOptions,
  ) {
    this.redis = withTimelineScripts(redis);
  }

  describe(): string {
    const ttl = this.options.idleTtlSeconds;
    return `fan-out on write (FANOUT_ON_WRITE=true): a page is one read of timeline:<reader>, materialised on first read${ttl > 0 ? `, expired after ${ttl} s unread` : ''}`;
  }

  async page(userId: string, limit: number, cursor?: TimelineEntry): Promise<TimelineEntry[]> {
    let raw = await this.read(userId, limit, cursor);
    if (raw === null) {
      await this.materialise(userId);
      raw = (await this.read(userId, limit, cursor)) ?? [];
    }
    const entries = fromWithScores(raw).filter((e) => e.postId !== TIMELINE_SENTINEL);
    return pageOf([entries], limit, cursor);
  }

  private read(userId: string, limit: number, cursor?: TimelineEntry): Promise<string[] | null> {
    return this.redis.murmurReadTimeline(
      timelineKey(userId),
      cursorScore(cursor),
      limit,
      this.options.idleTtlSeconds,
    );
  }

  /**
   * Merge the reader's timeline. Refused while the derived state is incomplete (a process can
   * trust a stale 'ready' for a second after a loss): then the reader is told to retry, as
   * during the first phases of a rebuild, rather than given a timeline merged from lists that
   * are not back yet.
   */
  private async materialise(userId: string): Promise<void> {
    const { timelineMax, idleTtlSeconds, maxFollowees } = this.options;
    const stored = await this.redis.murmurMaterialiseTimeline(
      timelineKey(userId),
      followingKey(userId),
      DERIVED_KEYS.marker,
      AUTHORED_PREFIX,
      userId,
      maxFollowees,
      timelineMax,
      idleTtlSeconds,
      TIMELINE_SENTINEL,
    );
    if (stored === MATERIALISE_REFUSED) {
      timelineMaterialisationsTotal.inc({ outcome: 'refused' });
      throw rebuildingError();
    }
    timelineMaterialisationsTotal.inc({
      outcome: stored === MATERIALISE_EXISTED ? 'raced' : 'merged',
    });
  }
}

/** The cursor's score as the candidate scripts take it ('' for the first page). */
const cursorScore = (cursor?: TimelineEntry): string =>
  cursor === undefined ? '' : String(cursor.score);

/**
 * Each sorted set's candidates for a page after the cursor (`PAGE_CANDIDATES`), in one round
 * trip: what a page is cut from (`pageOf`), whether from one timeline or many author lists.
 */
export async function readWindows(
  redis: Redis,
  keys: Iterable<string>,
  limit: number,
  cursor?: TimelineEntry,
): Promise<TimelineEntry[][]> {
  const pipeline = withTimelineScripts(redis).pipeline();
  for (const key of keys) {
    pipeline.murmurPageCandidates(key, cursorScore(cursor), limit);
  }
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, raw]) => {
    if (error) {
      throw error;
    }
    return fromWithScores(raw as string[]);
  });
}
