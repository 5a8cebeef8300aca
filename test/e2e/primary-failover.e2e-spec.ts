import { randomBytes } from 'node:crypto';
import { logicalShardForUser } from '@murmur/database';
import { failoverStack, type FailoverSummary, signalProcessTree } from '@murmur/stack';
import {
  componentPid,
  edgeApi,
  REPO_ROOT,
  testTopology,
  waitFor,
  withPostgres,
} from '@murmur/testing';

/**
 * The loss of a Postgres primary, on the real test stack: a killed primary (connections
 * refused) for main, a hung one (the whole postmaster process group SIGSTOPped: connections
 * accepted, nothing answered) for shard 0. Writes get 503 + Retry-After fast, reads go on from
 * the replicas, readiness stays up, and `failoverStack` (what `npm run stack:failover` runs)
 * brings writes back without restarting a service. The stack is switched back afterwards.
 */
const api = edgeApi();
const t = testTopology();
const figures: string[] = [];
/** Switchovers back to the topology's own primaries, run after the spec. */
const switchBack: Array<() => Promise<unknown>> = [];

type Call = [what: string, method: string, url: string, options: Parameters<typeof api.request>[2]];

/** Each call, `times` times: all must be 503 problem+json with Retry-After; returns the slowest ms. */
async function expectRefused(calls: Call[], times = 3): Promise<number[]> {
  const slowest: number[] = [];
  for (const [what, method, url, options] of calls) {
    let worst = 0;
    for (let i = 0; i < times; i++) {
      const started = Date.now();
      const res = await api.request(method, url, options);
      worst = Math.max(worst, Date.now() - started);
      expect([what, res.status, res.contentType.includes('problem+json')]).toEqual([
        what,
        503,
        true,
      ]);
      expect([what, Number(res.headers.get('retry-after')) >= 1]).toEqual([what, true]);
    }
    slowest.push(worst);
  }
  return slowest;
}

async function expectStatus(calls: Array<[...Call, number]>): Promise<void> {
  for (const [what, method, url, options, status] of calls) {
    const res = await api.request(method, url, options);
    expect([what, res.status]).toEqual([what, status]);
  }
}

interface Readiness {
  name: string;
  status: number;
  details: Record<string, { status: string; degraded?: boolean; node?: string | null }>;
}

/** /health/ready of every process of the stack that reports on `cluster`. */
async function readinessOf(cluster: string): Promise<Readiness[]> {
  const all = await Promise.all(
    t.services.map(async (s) => {
      const res = await fetch(`http://127.0.0.1:${s.port}/health/ready`);
      const body = (await res.json()) as { details: Readiness['details'] };
      return { name: s.name, status: res.status, details: body.details };
    }),
  );
  return all.filter((r) => r.details[`postgres-${cluster}-primary`] !== undefined);
}

/**
 * Wait until every standby of `cluster` has replayed all the primary has written. Replication is
 * asynchronous (and the test profile commits without waiting for the WAL flush): a write
 * acknowledged just before the primary dies can be missing on the promoted standby, so the data
 * this spec relies on must be on the standbys before it kills anything.
 */
async function replicated(cluster: string): Promise<void> {
  const nodes = t.postgres.filter((n) => n.cluster === cluster);
  const primary = nodes.find((n) => n.role === 'primary')?.name ?? '';
  const lsn = await withPostgres(
    primary,
    'postgres',
    async (c) =>
      (await c.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]
        .lsn,
  );
  for (const standby of nodes.filter((n) => n.role === 'replica')) {
    await waitFor(
      () =>
        withPostgres(standby.name, 'postgres', async (c) =>
          (await c.query<{ done: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1 AS done', [lsn]))
            .rows[0].done
            ? true
            : undefined,
        ),
      { timeoutMs: 10_000, what: `${standby.name} to replay ${lsn}` },
    );
  }
}

const servicePids = (): number[] => t.services.map((s) => componentPid(s.name));

const failover = (cluster: string, to?: string): Promise<FailoverSummary> =>
  failoverStack({ profile: 'test', root: REPO_ROOT, cluster, to, log: () => undefined });

/**
 * Fail `cluster` over while a write is retried every 50 ms (and note the way back to its own
 * primary): the summary, and the ms from the start of the failover to the first write that
 * succeeded, which go into the figures printed at the end.
 */
async function failoverUnderWrites(
  cluster: string,
  what: string,
  write: () => Promise<{ status: number }>,
  ok: number,
): Promise<FailoverSummary> {
  const nodes = t.postgres.filter((n) => n.cluster === cluster);
  const own = nodes.find((n) => n.role === 'primary')?.name;
  switchBack.push(() => failover(cluster, own));
  const started = Date.now();
  const [summary, firstWriteMs] = await Promise.all([
    failover(cluster),
    waitFor(async () => ((await write()).status === ok ? Date.now() - started : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: `${what} to succeed`,
    }),
  ]);
  figures.push(
    `${cluster} failover: promoted after ${summary.promotedMs} ms, every service on it after ` +
      `${summary.servicesMs} ms, first ${what} through NGINX after ${firstWriteMs} ms, ` +
      `old primary rebuilt as a standby after ${summary.totalMs} ms`,
  );
  return summary;
}

/** Every process reporting on `cluster` is ready (200) with its primary check degraded. */
async function expectReadyWithoutPrimary(cluster: string): Promise<Readiness[]> {
  const ready = await readinessOf(cluster);
  expect(ready.length).toBeGreaterThan(0);
  for (const r of ready) {
    expect([r.name, r.status, r.details[`postgres-${cluster}-primary`]]).toEqual([
      r.name,
      200,
      expect.objectContaining({ degraded: true, node: null }),
    ]);
  }
  return ready;
}

const signUpBody = (): { username: string; email: string; password: string } => {
  const username = `fo_${randomBytes(5).toString('hex')}`;
  return { username, email: `${username}@example.test`, password: 'failover-password' };
};

describe('the loss of a Postgres primary', () => {
  let author: Awaited<ReturnType<typeof api.newUser>>;
  let reader: Awaited<ReturnType<typeof api.newUser>>;
  let other: Awaited<ReturnType<typeof api.newUser>>;
  let postId: string;
  let thaw = (): void => undefined;

  beforeAll(async () => {
    // An author whose posts live on physical shard 0 (placement logical % 2, no SHARD_MAP).
    author = await api.newUser('foauthor');
    while (logicalShardForUser(author.id) % t.physicalShards !== 0) {
      author = await api.newUser('foauthor');
    }
    reader = await api.newUser('foreader');
    other = await api.newUser('foother');
    expect(
      (await api.request('POST', `/api/users/${author.id}/follow`, { token: reader.token })).status,
    ).toBe(204);
    const post = await api.request<{ id: string }>('POST', '/api/posts', {
      token: author.token,
      body: { text: 'readable while its shard has no primary' },
    });
    expect(post.status).toBe(201);
    postId = post.body.id;
    await Promise.all(['main', 'shard-0'].map(replicated));
  });

  afterAll(async () => {
    thaw();
    // Back to the topology's own primaries, for the specs that run after this one.
    for (const back of switchBack.reverse()) {
      await back();
    }
    console.log(`primary failover figures:\n  ${figures.join('\n  ')}`);
  }, 120_000);

  describe('main, its primary killed (connections refused)', () => {
    it('refuses writes with 503 + Retry-After within a second, and goes on serving reads, log-ins and readiness', async () => {
      process.kill(componentPid('pg-main-primary'), 'SIGKILL');
      const slowest = await expectRefused([
        ['a profile edit', 'PATCH', '/api/users/me', { token: reader.token, body: { bio: 'b' } }],
        ['a follow', 'POST', `/api/users/${other.id}/follow`, { token: reader.token }],
        ['a sign-up', 'POST', '/api/users', { body: signUpBody() }],
      ]);
      figures.push(`main killed: slowest refused write ${Math.max(...slowest)} ms`);
      expect(Math.max(...slowest)).toBeLessThan(1_000);
      await expectStatus([
        ['a profile', 'GET', `/api/users/${author.id}`, {}, 200],
        ['my own profile, after my writes', 'GET', '/api/users/me', { token: reader.token }, 200],
        ['a feed', 'GET', '/api/feed', { token: reader.token }, 200],
        [
          'a log-in',
          'POST',
          '/api/sessions',
          { body: { username: other.username, password: other.password } },
          201,
        ],
      ]);
      const ready = await expectReadyWithoutPrimary('main');
      expect(ready.map((r) => r.name).sort()).toEqual(
        t.services
          .filter((s) => s.service === 'user' || s.service === 'leaderboard')
          .map((s) => s.name)
          .sort(),
      );
    }, 60_000);

    it('writes again through the promoted standby, without restarting a service', async () => {
      const pids = servicePids();
      const summary = await failoverUnderWrites(
        'main',
        'profile edit',
        () => api.request('PATCH', '/api/users/me', { token: reader.token, body: { bio: 'c' } }),
        200,
      );
      expect(summary).toMatchObject({ oldPrimary: 'pg-main-primary', fenced: 'was down' });
      expect(summary.newPrimary).toMatch(/^pg-main-replica-/);
      await expectStatus([
        ['a sign-up', 'POST', '/api/users', { body: signUpBody() }, 201],
        ['a follow', 'POST', `/api/users/${other.id}/follow`, { token: reader.token }, 204],
        ['my own profile', 'GET', '/api/users/me', { token: reader.token }, 200],
      ]);
      const node = t.postgres.find((n) => n.name === summary.newPrimary);
      for (const r of await readinessOf('main')) {
        expect([r.name, r.details['postgres-main-primary'].node]).toEqual([
          r.name,
          `127.0.0.1:${node?.port}`,
        ]);
      }
      expect(servicePids()).toEqual(pids);
    }, 60_000);
  });

  describe('shard 0, its primary hung (every process of it SIGSTOPped)', () => {
    it('refuses new posts with 503 + Retry-After, and goes on serving its posts and readiness', async () => {
      // The postmaster and every backend: connections stay open, nothing answers.
      const pid = componentPid('pg-shard-0-primary');
      signalProcessTree(pid, 'SIGSTOP');
      thaw = () => {
        thaw = () => undefined;
        signalProcessTree(pid, 'SIGCONT');
      };
      const slowest = await expectRefused([
        ['a post', 'POST', '/api/posts', { token: author.token, body: { text: 'not now' } }],
      ]);
      figures.push(`shard-0 hung: slowest refused write ${Math.max(...slowest)} ms`);
      // The first write may wait for the probe that finds the node hung (1 s deadline).
      expect(Math.max(...slowest)).toBeLessThan(2_500);
      const [, ...later] = await expectRefused(
        [
          ['a post', 'POST', '/api/posts', { token: author.token, body: { text: 'not now' } }],
          ['another post', 'POST', '/api/posts', { token: author.token, body: { text: 'no' } }],
        ],
        2,
      );
      expect(Math.max(...later)).toBeLessThan(1_000);
      await expectStatus([
        ['a post of the shard', 'GET', `/api/posts/${postId}`, {}, 200],
        ["the author's posts", 'GET', `/api/posts?author=${author.id}`, {}, 200],
        ['a feed', 'GET', '/api/feed', { token: reader.token }, 200],
      ]);
      await expectReadyWithoutPrimary('shard-0');
    }, 60_000);

    it('posts again after the failover, without restarting a service', async () => {
      const pids = servicePids();
      const summary = await failoverUnderWrites(
        'shard-0',
        'post',
        () => api.request('POST', '/api/posts', { token: author.token, body: { text: 'back' } }),
        201,
      );
      expect(summary).toMatchObject({
        oldPrimary: 'pg-shard-0-primary',
        newPrimary: 'pg-shard-0-replica-1',
        fenced: 'killed',
      });
      await expectStatus([['a post of the shard', 'GET', `/api/posts/${postId}`, {}, 200]]);
      expect(servicePids()).toEqual(pids);
    }, 60_000);
  });
});
