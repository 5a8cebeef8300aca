import type { GrpcPost } from '@murmur/contracts';
import { LRUCache } from 'lru-cache';

/** Posts kept per feed process as the page's fallback; post text is small (≤ 500 characters). */
export const LAST_KNOWN_POSTS_MAX = 20_000;
const LAST_KNOWN_TTL_MS = 15 * 60_000;

/**
 * The posts this feed process last hydrated, kept so that a page can still be served, marked
 * partial, when the post service is slow or its breaker is open. Not a read cache: a healthy
 * page always asks the post service (live like counts); this only answers when it cannot.
 */
export class LastKnownPosts {
  private readonly posts = new LRUCache<string, GrpcPost>({
    max: LAST_KNOWN_POSTS_MAX,
    ttl: LAST_KNOWN_TTL_MS,
  });

  remember(posts: readonly GrpcPost[]): void {
    for (const post of posts) {
      this.posts.set(post.id, post);
    }
  }

  /** The known posts among `ids` in their order, and the ids with none. */
  recall(ids: readonly string[]): { found: GrpcPost[]; missing: string[] } {
    const found: GrpcPost[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const post = this.posts.get(id);
      if (post) {
        found.push(post);
      } else {
        missing.push(id);
      }
    }
    return { found, missing };
  }
}
