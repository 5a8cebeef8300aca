import type { EdgeLb, EdgeRateLimits } from '@murmur/stack';
import type { AccessLogLine } from '@murmur/testing';
import { describeWithNginx, type StubHandler, withEdge } from './edge.spec-helper';

/**
 * Each load-balancing algorithm in effect, seen where an operator sees it: the upstream address of
 * every request in the edge's access log. A real NGINX with the generated config, three stub
 * servers behind every pool.
 */
const noLimits: EdgeRateLimits = { api: false, auth: false };

const answer: StubHandler = (req, res, index) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json' }).end(`{"server":${index}}`);
};

/** Requests per upstream address (the last one tried, when NGINX moved on to another). */
function spread(lines: AccessLogLine[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines.filter((l) => l.uri.startsWith('/api/'))) {
    const addr = line.upstream_addr.split(', ').pop() ?? '';
    counts.set(addr, (counts.get(addr) ?? 0) + 1);
  }
  return counts;
}

const get = (base: string, token?: string): Promise<Response> =>
  fetch(`${base}/api/users/7`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

const withPool = (
  lb: EdgeLb,
  use: Parameters<typeof withEdge>[1],
  handler: StubHandler = answer,
): Promise<void> => withEdge(noLimits, use, { servers: 3, handler, edge: { lb } });

/** Where each token's requests went: token → the set of upstream addresses. */
async function placements(base: string, tokens: string[], rounds: number): Promise<string[]> {
  const seen: string[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const token of tokens) {
      const res = await get(base, token);
      expect(res.status).toBe(200);
      seen.push(String(((await res.json()) as { server: number }).server));
    }
  }
  return seen;
}

const tokens = Array.from({ length: 30 }, (_, i) => `token-${i}-${'x'.repeat(20)}`);

describeWithNginx('load-balancing algorithms at the edge (EDGE_LB, local NGINX)', () => {
  it('round_robin: each server in turn, an equal share', async () => {
    await withPool('round_robin', async ({ base, accessLog, servers }) => {
      for (let i = 0; i < 30; i++) {
        expect((await get(base)).status).toBe(200);
      }
      expect([...spread(accessLog()).entries()].sort()).toEqual(
        servers.map((s) => [s, 10] as [string, number]).sort(),
      );
    });
  });

  it('least_conn: a slow server gets fewer requests than its turn; round_robin gives it its turn', async () => {
    // Server 0 holds every request for 300 ms; the others answer at once.
    const slowFirst: StubHandler = (req, res, index) =>
      void setTimeout(() => answer(req, res, index), index === 0 ? 300 : 0);
    const slowShare = async (lb: EdgeLb): Promise<number> => {
      let share = 0;
      await withPool(
        lb,
        async ({ base, accessLog, servers }) => {
          // Three clients, ten requests each, one after another: least_conn sees server 0 busy.
          await Promise.all(
            [0, 1, 2].map(async () => {
              for (let i = 0; i < 10; i++) {
                expect((await get(base)).status).toBe(200);
              }
            }),
          );
          share = spread(accessLog()).get(servers[0]) ?? 0;
        },
        slowFirst,
      );
      return share;
    };
    expect(await slowShare('round_robin')).toBe(10);
    expect(await slowShare('least_conn')).toBeLessThan(10);
  }, 20_000);

  it('ip_hash: every request from one client address lands on one server', async () => {
    await withPool('ip_hash', async ({ base, accessLog }) => {
      await placements(base, tokens.slice(0, 10), 3);
      expect(spread(accessLog()).size).toBe(1);
    });
  });

  it("hash_user: a caller's requests stick to one server, callers spread over all of them, anonymous ones by address", async () => {
    await withPool('hash_user', async ({ base, accessLog }) => {
      const seen = await placements(base, tokens, 3);
      // token i's three requests (rounds are token-major: i, i+30, i+60) went to one server
      for (let i = 0; i < tokens.length; i++) {
        expect(new Set([seen[i], seen[i + tokens.length], seen[i + 2 * tokens.length]]).size).toBe(
          1,
        );
      }
      expect(new Set(seen).size).toBe(3);
      // the session cookie counts as the same key as a bearer token
      const cookie = await fetch(`${base}/api/users/7`, {
        headers: { cookie: `murmur_session=${tokens[0]}` },
      });
      expect(String(((await cookie.json()) as { server: number }).server)).toBe(seen[0]);
      const before = accessLog().length;
      for (let i = 0; i < 6; i++) {
        await get(base);
      }
      expect(spread(accessLog().slice(before)).size).toBe(1);
    });
  });

  it('hash_user is consistent: when a server leaves, only its callers move', async () => {
    await withPool('hash_user', async ({ base, stopServer }) => {
      const before = await placements(base, tokens, 1);
      await stopServer(2);
      const after = await placements(base, tokens, 1);
      for (let i = 0; i < tokens.length; i++) {
        if (before[i] === '2') {
          expect(after[i]).not.toBe('2');
        } else {
          expect(after[i]).toBe(before[i]);
        }
      }
      expect(before.filter((s) => s === '2').length).toBeGreaterThan(0);
    });
  });
});
