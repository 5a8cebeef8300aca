import type { TimelineEntry } from './feed-page';

export type FeedMode = 'fan-out' | 'fan-in';

/** Where a page of a home timeline's post ids comes from; `FANOUT_ON_WRITE` picks one. */
export interface TimelineSource {
  readonly mode: FeedMode;
  /** one line for the start-up log */
  describe(): string;
  /** newest first, strictly past the cursor position, at most `limit` */
  page(userId: string, limit: number, cursor?: TimelineEntry): Promise<TimelineEntry[]>;
}

export const TIMELINE_SOURCE = Symbol('TIMELINE_SOURCE');
