import { type DerivedState, derivedFallbackReadsTotal, isPast } from '@murmur/rebuild';
import type { TimelineEntry } from './feed-page';
import { rebuildingError } from './feed.errors';
import type { TimelineSource } from './timeline-source';

/**
 * The configured timeline source, as long as the data Redis's derived state is complete. While a
 * rebuild restores it, a page is merged at read (fan-in) from the followees' lists as soon as
 * the graph and the authored lists are back; before that (the first seconds after the loss) the
 * reader gets 503 with `Retry-After` rather than an empty feed that looks like a real one.
 */
export class RebuildAwareTimelines implements TimelineSource {
  readonly mode: TimelineSource['mode'];

  constructor(
    private readonly configured: TimelineSource,
    private readonly fanin: TimelineSource,
    private readonly derived: DerivedState,
  ) {
    this.mode = configured.mode;
  }

  describe(): string {
    return `${this.configured.describe()}; fan-in at read while the data Redis is rebuilt`;
  }

  async page(userId: string, limit: number, cursor?: TimelineEntry): Promise<TimelineEntry[]> {
    const status = await this.derived.status();
    if (status.ready) {
      return this.configured.page(userId, limit, cursor);
    }
    if (isPast(status, 'authored')) {
      derivedFallbackReadsTotal.inc({ reader: 'feed', via: 'fan-in' });
      return this.fanin.page(userId, limit, cursor);
    }
    derivedFallbackReadsTotal.inc({ reader: 'feed', via: 'refused' });
    throw rebuildingError();
  }
}
