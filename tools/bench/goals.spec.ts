import { goals } from './goals';
import type { PatternRun, Row } from './report';

const run = (config: string, journey: string, okRps: number): PatternRun => ({
  config,
  journey,
  kind: 'journey',
  rps: okRps,
  okRps,
  p50: 2,
  p99: 9,
  errors: 0,
});

describe('bench goals', () => {
  const journeys = [
    'profile: random user',
    'post: read one',
    'leaderboard: top 10',
    'feed: first page',
  ];
  const runs: PatternRun[] = [
    ...journeys.flatMap((j) => [run('baseline', j, 900), run('baseline-2', j, 1100)]),
    ...journeys.map((j) => run('tracing-off', j, j.startsWith('feed') ? 1250 : 1100)),
    ...journeys.map((j) => run('no-cache', j, j.startsWith('feed') ? 600 : 300)),
  ];
  const rows: Row[] = [
    {
      name: 'feed: first page',
      kind: 'journey',
      mode: '500 req/s (half)',
      rps: 500,
      okRps: 500,
      p50: 5,
      p99: 61,
      errors: 0,
    },
  ];
  const ladder = [
    { name: 'NGINX → bare Fastify', rps: 2500, p50: 1, p99: 2, non2xx: 0, nginxUs: 1 },
  ];

  it('judges each goal from the mean of the repeated baseline, with its spread', () => {
    const g = goals({ runs, rows, ladder, latencyMode: true });
    const find = (text: string) => g.filter((x) => x.goal.includes(text));
    // 1000 of 2500 = 40%: under 50% for a cached read, over 25% for the feed
    expect(find('profile: random user: 2xx/s')[0]).toMatchObject({ met: false });
    expect(find('profile: random user: 2xx/s')[0].measured).toBe(
      '40% (1000 of 2500) (spread ×0.90–×1.10)',
    );
    expect(find('feed: first page: 2xx/s')[0]).toMatchObject({ met: true });
    expect(find('p99 at half')[0]).toMatchObject({
      measured: '61 ms at 500 req/s (half)',
      met: false,
    });
    // tracing: 1 − 1000/1100 = 9% (met), 1 − 1000/1250 = 20% for the feed (missed)
    expect(find('profile: random user: throughput tracing')[0]).toMatchObject({ met: true });
    expect(find('feed: first page: throughput tracing')[0]).toMatchObject({
      measured: '20% (spread ×0.90–×1.10)',
      met: false,
    });
    // no-cache ×0.30 for reads (≤ ×0.33 met), ×0.60 for the feed (> ×0.5 missed)
    expect(find('profile: random user: both cache')[0]).toMatchObject({ met: true });
    expect(find('feed: first page: both cache')[0]).toMatchObject({ met: false });
  });

  it('does not judge the cache goals outside the latency mode, nor what was not measured', () => {
    const g = goals({
      runs: runs.filter((r) => r.config !== 'tracing-off'),
      rows: [],
      ladder: [],
      latencyMode: false,
    });
    expect(g.filter((x) => x.goal.includes('both cache')).every((x) => x.met === undefined)).toBe(
      true,
    );
    expect(g.filter((x) => x.goal.includes('tracing')).every((x) => x.met === undefined)).toBe(
      true,
    );
    expect(g.filter((x) => x.goal.includes('bare Fastify')).every((x) => x.met === undefined)).toBe(
      true,
    );
  });
});
