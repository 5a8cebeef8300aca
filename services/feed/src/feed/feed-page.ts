/**
 * How a feed page is cut out of post ids scored by time. Both modes use it: fan-out on write on
 * the reader's one timeline, fan-in at read on the lists of the reader and their followees, so a
 * client sees the same order, page boundaries and cursors in either mode.
 */

export interface TimelineEntry {
  postId: string;
  /** epoch ms of the post */
  score: number;
}

/** Newest first; ties on the same ms are broken by post id, which also grows with time. */
export function newestFirst(a: TimelineEntry, b: TimelineEntry): number {
  if (a.score !== b.score) {
    return b.score - a.score;
  }
  const x = BigInt(a.postId);
  const y = BigInt(b.postId);
  return x === y ? 0 : x < y ? 1 : -1;
}

/** Strictly past the cursor position in `newestFirst` order: not on an earlier page. */
export function isPast(entry: TimelineEntry, cursor: TimelineEntry): boolean {
  return (
    entry.score < cursor.score ||
    (entry.score === cursor.score && BigInt(entry.postId) < BigInt(cursor.postId))
  );
}

/** `[member, score, member, score, …]` as ZRANGE … WITHSCORES answers it. */
export function fromWithScores(raw: readonly string[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    entries.push({ postId: raw[i], score: Number(raw[i + 1]) });
  }
  return entries;
}

/**
 * A page out of one or more lists of entries, each the candidates a read of one sorted set
 * returned for this cursor (`PAGE_CANDIDATES` in timeline-scripts.ts: every entry at the cursor's
 * ms and at the far edge, so no tie is cut). Entries at or before the cursor are dropped and the
 * newest `limit` of the rest kept, in `newestFirst` order, without duplicates: a page merged from
 * many authors' lists equals the page of a timeline holding all their posts.
 */
export function pageOf(
  lists: readonly (readonly TimelineEntry[])[],
  limit: number,
  cursor?: TimelineEntry,
): TimelineEntry[] {
  const past =
    cursor === undefined ? lists : lists.map((list) => list.filter((e) => isPast(e, cursor)));
  return mergeNewest(past, limit);
}

/**
 * The newest `count` entries of many lists: a k-way merge over a heap of list heads, so a fan-in
 * page over a thousand followees sorts a window of entries, not all of them.
 */
export function mergeNewest(
  lists: readonly (readonly TimelineEntry[])[],
  count: number,
): TimelineEntry[] {
  interface Head {
    list: readonly TimelineEntry[];
    at: number;
  }
  const before = (a: Head, b: Head): boolean => newestFirst(a.list[a.at], b.list[b.at]) < 0;
  const heap: Head[] = lists
    .filter((list) => list.length > 0)
    .map((list) => ({ list: isSorted(list) ? list : [...list].sort(newestFirst), at: 0 }));
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < heap.length && before(heap[l], heap[top])) {
        top = l;
      }
      if (r < heap.length && before(heap[r], heap[top])) {
        top = r;
      }
      if (top === i) {
        return;
      }
      [heap[i], heap[top]] = [heap[top], heap[i]];
      i = top;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) {
    down(i);
  }
  const out: TimelineEntry[] = [];
  const seen = new Set<string>();
  while (out.length < count && heap.length > 0) {
    const head = heap[0];
    const entry = head.list[head.at];
    if (!seen.has(entry.postId)) {
      seen.add(entry.postId);
      out.push(entry);
    }
    head.at++;
    if (head.at === head.list.length) {
      const last = heap.pop() as Head;
      if (heap.length === 0) {
        break;
      }
      heap[0] = last;
    }
    down(0);
  }
  return out;
}

function isSorted(list: readonly TimelineEntry[]): boolean {
  for (let i = 1; i < list.length; i++) {
    if (newestFirst(list[i - 1], list[i]) > 0) {
      return false;
    }
  }
  return true;
}
