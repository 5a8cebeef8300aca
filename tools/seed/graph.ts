/**
 * The shape of the seeded data set, computed in memory before anything is written: who follows
 * whom (power law), who posts how much (power law too), and when.
 */

/** A seeded pseudo-random generator, so the same arguments build the same data set. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Draws indexes 0..n-1 with probability proportional to 1/(rank+1)^s, where ranks are a random
 * permutation of the indexes: a few users get most of the draws, like real followers and posters.
 */
export class ZipfSampler {
  private readonly cdf: Float64Array;
  private readonly byRank: Uint32Array;

  constructor(
    n: number,
    s: number,
    private readonly random: () => number,
  ) {
    this.cdf = new Float64Array(n);
    let total = 0;
    for (let r = 0; r < n; r++) {
      total += 1 / Math.pow(r + 1, s);
      this.cdf[r] = total;
    }
    for (let r = 0; r < n; r++) {
      this.cdf[r] /= total;
    }
    this.byRank = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      this.byRank[i] = i;
    }
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [this.byRank[i], this.byRank[j]] = [this.byRank[j], this.byRank[i]];
    }
  }

  next(): number {
    const x = this.random();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] < x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return this.byRank[lo];
  }
}

export interface SeedPlan {
  /** followees[i]: the user indexes user i follows */
  followees: Uint32Array[];
  followerCount: Uint32Array;
  /** posts as parallel arrays, sorted by time */
  postAuthor: Uint32Array;
  postCreatedMs: Float64Array;
}

export interface PlanOptions {
  users: number;
  posts: number;
  /** mean number of users each user follows */
  avgFollows: number;
  /** how far back post times go */
  days: number;
  nowMs: number;
  seed: number;
}

export function planSeed(o: PlanOptions): SeedPlan {
  const random = mulberry32(o.seed);
  const popularity = new ZipfSampler(o.users, 1.1, random);
  const followees: Uint32Array[] = [];
  const followerCount = new Uint32Array(o.users);
  const maxFollows = Math.max(0, o.users - 1);
  for (let u = 0; u < o.users; u++) {
    // Following counts vary too (exponential around the mean), but far less than follower counts.
    const want = Math.min(maxFollows, Math.round(-Math.log(1 - random()) * o.avgFollows));
    const chosen = new Set<number>();
    let tries = 0;
    while (chosen.size < want && tries < want * 20) {
      tries++;
      const v = popularity.next();
      if (v !== u) {
        chosen.add(v);
      }
    }
    const list = Uint32Array.from(chosen);
    for (const v of list) {
      followerCount[v]++;
    }
    followees.push(list);
  }
  const activity = new ZipfSampler(o.users, 0.9, random);
  const times = new Float64Array(o.posts);
  const spanMs = o.days * 24 * 3600 * 1000;
  for (let p = 0; p < o.posts; p++) {
    times[p] = Math.floor(o.nowMs - random() * spanMs);
  }
  times.sort();
  const postAuthor = new Uint32Array(o.posts);
  for (let p = 0; p < o.posts; p++) {
    postAuthor[p] = activity.next();
  }
  return { followees, followerCount, postAuthor, postCreatedMs: times };
}
