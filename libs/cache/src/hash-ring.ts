import { createHash } from 'node:crypto';

/** points per node: 40 MD5 digests × 4 points each, as libketama does */
export const POINTS_PER_NODE = 160;

interface Point {
  at: number;
  node: string;
}

/**
 * Consistent hashing over cache nodes, ketama-style: each node owns 160 points on a 32-bit ring
 * (from MD5 of `<node>-<i>`), a key belongs to the first point clockwise of its own hash. The many
 * virtual points spread each node's share over the ring, so when a node leaves only its own keys
 * move (about 1/N of them), and they spread over every remaining node instead of piling onto one
 * neighbour. Skipping a node (`nodeFor(key, skip)`) gives the same answer as rebuilding the ring
 * without it, so a node marked down needs no rebuild and rejoins by no longer being skipped.
 */
export class HashRing {
  private readonly points: Point[];

  constructor(readonly nodes: readonly string[]) {
    if (nodes.length === 0) {
      throw new Error('a hash ring needs at least one node');
    }
    const points: Point[] = [];
    for (const node of nodes) {
      for (let i = 0; i < POINTS_PER_NODE / 4; i++) {
        const digest = createHash('md5').update(`${node}-${i}`).digest();
        for (let j = 0; j < 4; j++) {
          points.push({ at: digest.readUInt32LE(j * 4), node });
        }
      }
    }
    this.points = points.sort((a, b) => a.at - b.at || a.node.localeCompare(b.node));
  }

  /**
   * The node of `key`: the first point clockwise of the key's hash whose node is not skipped.
   * Undefined when every node is skipped.
   */
  nodeFor(key: string, skip?: (node: string) => boolean): string | undefined {
    const start = this.firstPointAtOrAfter(hashKey(key));
    for (let n = 0; n < this.points.length; n++) {
      const point = this.points[(start + n) % this.points.length];
      if (!skip?.(point.node)) {
        return point.node;
      }
    }
    return undefined;
  }

  private firstPointAtOrAfter(hash: number): number {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid].at < hash) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo === this.points.length ? 0 : lo;
  }
}

/** A key's place on the ring: the first 4 bytes of its MD5, as libketama. */
function hashKey(key: string): number {
  return createHash('md5').update(key).digest().readUInt32LE(0);
}
