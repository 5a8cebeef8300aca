import type { GrpcPost } from '@murmur/contracts';
import { LRUCache } from 'lru-cache';

/** Posts kept per feed process; post text is small (≤ 500 characters). */
export const HYDRATED_POSTS_MAX = 20_000;
/** How long a post stays as the fallback of a page the post service cannot hydrate. */
export const FALLBACK_TTL_MS = 15 * 60_000;

export interface HydratedPostsOptions {
  /**
   * How long a hydrated post answers a page without asking the post service (the L1 of the
   * hydration hop); 0 = never: every page asks. A post's text never changes; this bounds how far
   * behind its like count may be.
   */
  freshMs: number;
  max?: number;
  now?: () => number;
}

interface Held {
  post: GrpcPost;
  at: number;
}

/**
 * The posts this feed process last hydrated, for two uses. Fresh ones (younger than `freshMs`)
 * hydrate a page without the gRPC call to the post service: a hot feed page costs no hop. Any of
 * them (up to 15 min) serve a page, marked partial, when the post service is slow or its breaker
 * is open: stale-if-error.
 */
export class HydratedPosts {
  private readonly posts: LRUCache<string, Held>;
  private readonly now: () => number;

  constructor(private readonly options: HydratedPostsOptions) {
    this.now = options.now ?? Date.now;
    // Bounded by count; ages are checked here against `now` (the LRU is only the bound).
    this.posts = new LRUCache<string, Held>({ max: options.max ?? HYDRATED_POSTS_MAX });
  }

  remember(posts: readonly GrpcPost[]): void {
    const at = this.now();
    for (const post of posts) {
      this.posts.set(post.id, { post, at });
    }
  }

  /** The fresh posts among `ids`, by id, and the ids to ask the post service for. */
  fresh(ids: readonly string[]): { found: Map<string, GrpcPost>; missing: string[] } {
    const found = new Map<string, GrpcPost>();
    const missing: string[] = [];
    const oldest = this.now() - this.options.freshMs;
    for (const id of ids) {
      const held = this.options.freshMs > 0 ? this.posts.get(id) : undefined;
      if (held && held.at > oldest) {
        found.set(id, held.post);
      } else {
        missing.push(id);
      }
    }
    return { found, missing };
  }

  /** The known posts among `ids` in their order, whatever their age, and the ids with none. */
  recall(ids: readonly string[]): { found: GrpcPost[]; missing: string[] } {
    const found: GrpcPost[] = [];
    const missing: string[] = [];
    const oldest = this.now() - FALLBACK_TTL_MS;
    for (const id of ids) {
      const held = this.posts.get(id);
      if (held && held.at >= oldest) {
        found.push(held.post);
      } else {
        missing.push(id);
      }
    }
    return { found, missing };
  }
}
