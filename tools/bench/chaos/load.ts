/**
 * The steady mixed load the faults are injected under, and the ledger of what it was told had
 * succeeded. Every write is retried until it is acknowledged (a post with the same
 * Idempotency-Key; a follow, an unfollow, a like or an unlike simply again, since each sets a
 * state), so at the end each one's outcome is known; one still unacknowledged when the load stops
 * is left out of the checks and counted as unsettled.
 */
import { randomUUID } from 'node:crypto';
import { asUser, type ChaosUser, type Edge, sleep } from './client';

export interface AckedPost {
  id: string;
  authorId: string;
  key: string;
  /** attempts the acknowledgement took (> 1: a retry with the same key) */
  attempts: number;
}

export interface Ledger {
  posts: AckedPost[];
  /** follower:followee → the last acknowledged state */
  follows: Map<string, { followerId: string; followeeId: string; following: boolean }>;
  /** post:user → the last acknowledged state */
  likes: Map<string, { postId: string; userId: string; liked: boolean }>;
  /** writes started but never acknowledged before the load stopped */
  unsettled: number;
  /** retries that a write needed before its acknowledgement */
  retries: number;
  /**
   * follow pairs and like keys with a write in flight: committed perhaps, not yet acknowledged,
   * so the ledger's state for them may be the one before; the checks skip them
   */
  inFlight: Set<string>;
}

export interface Cast {
  /** each author has its own stable followers (who never unfollow) */
  authors: Array<{ author: ChaosUser; followers: ChaosUser[] }>;
  /** users who follow and unfollow the authors */
  togglers: ChaosUser[];
  /** stable followers like and unlike posts of their author */
  likers: ChaosUser[];
}

export interface LoadOptions {
  /** pause between one loop's requests */
  postEveryMs: number;
  toggleEveryMs: number;
  likeEveryMs: number;
  readEveryMs: number;
  /** how long a write keeps retrying after the stop before it counts as unsettled */
  settleMs: number;
}

export const DEFAULT_LOAD: LoadOptions = {
  postEveryMs: 1_000,
  toggleEveryMs: 500,
  likeEveryMs: 300,
  readEveryMs: 200,
  settleMs: 60_000,
};

export class MixedLoad {
  readonly ledger: Ledger = {
    posts: [],
    follows: new Map(),
    likes: new Map(),
    unsettled: 0,
    retries: 0,
    inFlight: new Set(),
  };
  private stopping = false;
  private stoppedAt = 0;
  private loops: Array<Promise<void>> = [];

  constructor(
    private readonly edge: Edge,
    private readonly cast: Cast,
    private readonly options: LoadOptions = DEFAULT_LOAD,
  ) {}

  start(): void {
    for (const { author } of this.cast.authors) {
      this.loops.push(this.loop(this.options.postEveryMs, () => this.post(author)));
    }
    for (const toggler of this.cast.togglers) {
      this.loops.push(this.loop(this.options.toggleEveryMs, () => this.toggle(toggler)));
    }
    for (const liker of this.cast.likers) {
      this.loops.push(this.loop(this.options.likeEveryMs, () => this.like(liker)));
    }
    const readers = this.cast.authors.map((a) => a.followers[0]);
    for (const reader of readers) {
      this.loops.push(this.loop(this.options.readEveryMs, () => this.read(reader)));
    }
  }

  /** Stop starting writes; wait for those in flight to be acknowledged (or given up). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stoppedAt = Date.now();
    await Promise.all(this.loops);
  }

  private async loop(everyMs: number, step: () => Promise<void>): Promise<void> {
    // spread the loops' phases, so that they do not fire together
    await sleep(Math.random() * everyMs);
    while (!this.stopping) {
      await step();
      await sleep(everyMs);
    }
  }

  /** Retry `attempt` until it says the write was acknowledged; false when it gave up. */
  private async untilAcked(attempt: () => Promise<boolean>): Promise<number> {
    for (let n = 1; ; n++) {
      if (await attempt()) {
        this.ledger.retries += n - 1;
        return n;
      }
      if (this.stopping && Date.now() - this.stoppedAt > this.options.settleMs) {
        this.ledger.unsettled++;
        return 0;
      }
      await sleep(Math.min(100 * 2 ** Math.min(n, 4), 1_000));
    }
  }

  private async post(author: ChaosUser): Promise<void> {
    const key = `chaos-${randomUUID()}`;
    const text = `chaos ${key}`;
    let id = '';
    const attempts = await this.untilAcked(async () => {
      const res = await asUser<{ id: string }>(this.edge, author, 'POST', '/api/posts', {
        body: { text },
        headers: { 'idempotency-key': key },
      });
      if (res.status === 201) {
        id = res.body.id;
        return true;
      }
      return false;
    });
    if (attempts > 0) {
      this.ledger.posts.push({ id, authorId: author.id, key, attempts });
    }
  }

  private async toggle(toggler: ChaosUser): Promise<void> {
    const { author } = this.cast.authors[Math.floor(Math.random() * this.cast.authors.length)];
    const pair = `${toggler.id}:${author.id}`;
    const following = !(this.ledger.follows.get(pair)?.following ?? false);
    await this.setState(
      this.ledger.follows,
      pair,
      { followerId: toggler.id, followeeId: author.id, following },
      toggler,
      following ? 'POST' : 'DELETE',
      `/api/users/${author.id}/follow`,
      204,
    );
  }

  private async like(liker: ChaosUser): Promise<void> {
    const mine = this.cast.authors.find((a) => a.followers.includes(liker));
    const posts = this.ledger.posts.filter((p) => p.authorId === mine?.author.id).slice(-20);
    if (posts.length === 0) {
      return;
    }
    const post = posts[Math.floor(Math.random() * posts.length)];
    const key = `${post.id}:${liker.id}`;
    const liked = !(this.ledger.likes.get(key)?.liked ?? false);
    await this.setState(
      this.ledger.likes,
      key,
      { postId: post.id, userId: liker.id, liked },
      liker,
      liked ? 'PUT' : 'DELETE',
      `/api/posts/${post.id}/like`,
      200,
    );
  }

  /**
   * Set a state (a follow, a like) until acknowledged, and record it; while the write is in
   * flight, and after it gave up, its state is unknown and left out of the checks.
   */
  private async setState<S>(
    states: Map<string, S>,
    key: string,
    state: S,
    user: ChaosUser,
    method: string,
    path: string,
    ok: number,
  ): Promise<void> {
    this.ledger.inFlight.add(key);
    const acked = await this.untilAcked(
      async () => (await asUser(this.edge, user, method, path)).status === ok,
    );
    if (acked > 0) {
      states.set(key, state);
    } else {
      states.delete(key);
    }
    this.ledger.inFlight.delete(key);
  }

  private async read(reader: ChaosUser): Promise<void> {
    await asUser(this.edge, reader, 'GET', '/api/feed?limit=20');
    await this.edge.call('GET', '/api/leaderboards/posters?limit=10');
  }
}
