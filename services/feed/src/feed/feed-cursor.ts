import { parseId } from '@murmur/database';
import type { TimelineEntry } from './feed-page';

/** Cursors are opaque to clients: base64url of `<score>:<postId>`. */
export function encodeCursor(entry: TimelineEntry): string {
  return Buffer.from(`${entry.score}:${entry.postId}`).toString('base64url');
}

export function decodeCursor(cursor: string): TimelineEntry | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(\d{1,16}):([1-9]\d{0,18})$/.exec(text);
  // A post id past int8 cannot exist: refuse it here, not in the post service's database.
  return match && parseId(match[2]) !== undefined
    ? { score: Number(match[1]), postId: match[2] }
    : undefined;
}
