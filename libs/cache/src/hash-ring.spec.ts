import { HashRing } from './hash-ring';

const keys = Array.from({ length: 30_000 }, (_, i) => `user:${i}`);
const nodes = ['127.0.0.1:26391', '127.0.0.1:26392', '127.0.0.1:26393'];

function shares(ring: HashRing, skip?: (node: string) => boolean): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) {
    const node = ring.nodeFor(key, skip) ?? 'none';
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  return counts;
}

describe(HashRing.name, () => {
  const sut = new HashRing(nodes);

  it('spreads keys over every node, each near 1/N', () => {
    const counts = shares(sut);
    expect([...counts.keys()].sort()).toEqual(nodes);
    for (const count of counts.values()) {
      expect(count / keys.length).toBeGreaterThan(0.25);
      expect(count / keys.length).toBeLessThan(0.42);
    }
  });

  it('moves only the keys of a node that leaves (~1/N), spread over the others', () => {
    const gone = nodes[1];
    const before = keys.map((k) => sut.nodeFor(k));
    const after = keys.map((k) => sut.nodeFor(k, (n) => n === gone));
    const moved = keys.filter((_, i) => before[i] !== after[i]);
    // every key that moved was on the node that left, and every key of that node moved
    expect(moved.length).toBe(before.filter((n) => n === gone).length);
    expect(moved.length / keys.length).toBeGreaterThan(0.25);
    expect(moved.length / keys.length).toBeLessThan(0.42);
    // … to both remaining nodes, not all onto one neighbour
    const targets = new Map<string, number>();
    keys.forEach((_, i) => {
      if (before[i] !== after[i]) {
        targets.set(after[i] ?? '', (targets.get(after[i] ?? '') ?? 0) + 1);
      }
    });
    expect(targets.size).toBe(2);
    for (const count of targets.values()) {
      expect(count / moved.length).toBeGreaterThan(0.3);
    }
  });

  it('skipping a node maps keys exactly as a ring built without it', () => {
    const without = new HashRing([nodes[0], nodes[2]]);
    for (const key of keys.slice(0, 2_000)) {
      expect(sut.nodeFor(key, (n) => n === nodes[1])).toBe(without.nodeFor(key));
    }
  });

  it('maps a key to the same node on every ring built from the same nodes (every process agrees)', () => {
    const other = new HashRing([...nodes].reverse());
    for (const key of keys.slice(0, 2_000)) {
      expect(other.nodeFor(key)).toBe(sut.nodeFor(key));
    }
  });

  it('has no node for a key when every node is skipped', () => {
    expect(sut.nodeFor('k', () => true)).toBeUndefined();
  });
});
