/**
 * Issue 14's goals, judged from one `npm run bench` run (tools/bench/main.ts).
 */
import { baselineSpread, type Goal, type PatternRun, type Row } from './report';
import type { Rung } from './ladder/run';

/** The journeys issue 14's goals name (tools/bench/journeys.ts). */
const J = {
  profile: 'profile: random user',
  post: 'post: read one',
  top10: 'leaderboard: top 10',
  feed: 'feed: first page',
} as const;
const BARE_FASTIFY = 'NGINX → bare Fastify';

const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;

/**
 * Issue 14's goals from one run: cached reads against NGINX → bare Fastify (the ladder), the feed
 * and its p99 at half its throughput, what tracing at 10% costs, and in the latency mode what the
 * caches buy. Each ratio carries the spread of the repeated baseline.
 */
export function goals(input: {
  runs: PatternRun[];
  rows: Row[];
  ladder: Rung[];
  latencyMode: boolean;
}): Goal[] {
  const { runs, rows, ladder } = input;
  const out: Goal[] = [];
  const bare = ladder.find((r) => r.name === BARE_FASTIFY)?.rps;
  const band = (j: string): string => {
    const s = baselineSpread(runs, j);
    return s && s.n >= 2 ? ` (spread ×${s.low.toFixed(2)}–×${s.high.toFixed(2)})` : '';
  };
  const one = (config: string, j: string): PatternRun | undefined =>
    runs.find((r) => r.config === config && r.journey === j);
  for (const [j, target] of [
    [J.profile, 0.5],
    [J.post, 0.5],
    [J.top10, 0.5],
    [J.feed, 0.25],
  ] as const) {
    const s = baselineSpread(runs, j);
    out.push({
      goal: `${j}: 2xx/s of NGINX → bare Fastify`,
      measured:
        s && bare
          ? `${pct(s.mean / bare)} (${Math.round(s.mean)} of ${Math.round(bare)})${band(j)}`
          : '–',
      target: `≥ ${pct(target)}`,
      met: s && bare ? s.mean / bare >= target : undefined,
    });
  }
  const half = rows.find((r) => r.name === J.feed && r.mode.includes('half'));
  out.push({
    goal: `${J.feed}: p99 at half its throughput`,
    measured: half ? `${half.p99.toFixed(0)} ms at ${half.mode}` : '–',
    target: '≤ 50 ms',
    met: half ? half.p99 <= 50 : undefined,
  });
  for (const j of [J.feed, J.profile, J.post, J.top10]) {
    const s = baselineSpread(runs, j);
    const off = one('tracing-off', j);
    const cost = s && off && off.okRps > 0 ? 1 - s.mean / off.okRps : undefined;
    out.push({
      goal: `${j}: throughput tracing at 10% costs (1 − baseline ÷ tracing-off)`,
      measured: cost === undefined ? '–' : `${pct(cost)}${band(j)}`,
      target: '≤ 15%',
      met: cost === undefined ? undefined : cost <= 0.15,
    });
  }
  for (const [j, target] of [
    [J.profile, 0.33],
    [J.post, 0.33],
    [J.feed, 0.5],
  ] as const) {
    const s = baselineSpread(runs, j);
    const off = one('no-cache', j);
    const ratio = s && off && s.mean > 0 ? off.okRps / s.mean : undefined;
    out.push({
      goal: `${j}: both cache layers off (no-cache ÷ baseline)${input.latencyMode ? '' : ' — the goal is for the latency mode'}`,
      measured: ratio === undefined ? '–' : `×${ratio.toFixed(2)}${band(j)}`,
      target: `≤ ×${target.toFixed(2)}`,
      met: ratio === undefined || !input.latencyMode ? undefined : ratio <= target,
    });
  }
  return out;
}
