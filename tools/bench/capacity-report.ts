/**
 * The capacity report: per journey the knee, the ramp, the latencies below the knee, what the
 * errors above it were and what 3× the knee did; one chart of goodput against offered load.
 */
import type { KneeStatus } from './knee';
import { TIMEOUT, type Window } from './open-loop';
import { escape } from './report';

export type Phase = 'ramp' | 'bisect' | 'profile' | 'overload';

export interface StepResult {
  phase: Phase;
  /** offered arrival rate, req/s */
  rate: number;
  window: Window;
  violations: string[];
  /** the generator's CPU, as a share of one core */
  cpuShare: number;
  peakInFlight: number;
  /** the generator fell behind its schedule: the figures may be its limit, not the stack's */
  generatorLimited: boolean;
}

export interface JourneyCapacity {
  id: string;
  name: string;
  status: KneeStatus;
  knee?: number;
  firstBad?: number;
  /** failing rates below the knee */
  blips: number[];
  steps: StepResult[];
}

const SHED = ['429', '503'];
const CALLED_OUT = ['502', '504', TIMEOUT];

/** Non-2xx answers of some steps, by key, split into shed load and the rest. */
export interface ErrorBreakdown {
  shed: Record<string, number>;
  /** 502, 504, timeouts: what must never happen */
  calledOut: Record<string, number>;
  /** any other status or socket error */
  other: Record<string, number>;
}

export function errorBreakdown(windows: readonly Window[]): ErrorBreakdown {
  const out: ErrorBreakdown = {
    shed: Object.fromEntries(SHED.map((k) => [k, 0])),
    calledOut: Object.fromEntries(CALLED_OUT.map((k) => [k, 0])),
    other: {},
  };
  for (const w of windows) {
    for (const [key, n] of Object.entries(w.all.byKey)) {
      if (/^2\d\d$/.test(key)) {
        continue;
      }
      const bucket = SHED.includes(key)
        ? out.shed
        : CALLED_OUT.includes(key)
          ? out.calledOut
          : out.other;
      bucket[key] = (bucket[key] ?? 0) + n;
    }
  }
  return out;
}

const counts = (r: Record<string, number>): string =>
  Object.entries(r)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ') || '0';
const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(x < 10 ? 1 : 0) : '–');
const perSecond = (n: number, w: Window): number => n / w.seconds;

function kneeText(j: JourneyCapacity): string {
  switch (j.status) {
    case 'found':
      return `${j.knee} req/s`;
    case 'not-reached':
      return `≥ ${j.knee} req/s (not reached)`;
    case 'below-first':
      return `< ${j.firstBad ?? '?'} req/s`;
  }
}

const above = (j: JourneyCapacity): StepResult[] =>
  j.steps.filter((s) => s.phase !== 'profile' && (j.knee === undefined || s.rate > j.knee));
const overloadOf = (j: JourneyCapacity): StepResult | undefined =>
  j.steps.find((s) => s.phase === 'overload');

/** One line per journey: the knee and what 3× the knee did. */
export function summaryTable(journeys: readonly JourneyCapacity[]): string {
  const lines = [
    '| journey | knee | first failing rate: why | overload offered | 2xx/s (of the knee) | 429 / 503 | 502 / 504 / timeouts | other errors | generator lag p99 |',
    '|---|---:|---|---:|---:|---:|---:|---|---:|',
  ];
  for (const j of journeys) {
    const bad = j.steps.find((s) => s.rate === j.firstBad && s.phase !== 'profile');
    const o = overloadOf(j);
    const oe = o ? errorBreakdown([o.window]) : undefined;
    const why = bad ? `${bad.rate}: ${bad.violations.join('; ')}` : '–';
    const goodput = o ? perSecond(o.window.all.ok, o.window) : NaN;
    lines.push(
      [
        '',
        escape(j.name),
        kneeText(j),
        escape(why),
        o ? `${o.rate} req/s` : '–',
        o && j.knee ? `${Math.round(goodput)} (${((100 * goodput) / j.knee).toFixed(0)}%)` : '–',
        oe ? `${oe.shed['429']} / ${oe.shed['503']}` : '–',
        oe ? `${oe.calledOut['502']} / ${oe.calledOut['504']} / ${oe.calledOut[TIMEOUT]}` : '–',
        oe ? counts(oe.other) : '–',
        o ? `${ms(o.window.lagP99)} ms${o.generatorLimited ? ' ⚠' : ''}` : '–',
        '',
      ]
        .join(' | ')
        .trim(),
    );
  }
  return lines.join('\n');
}

/** Every step of a journey, in the order run. */
export function stepsTable(j: JourneyCapacity): string {
  const lines = [
    '| phase | offered req/s | 2xx/s | 429+503/s | other non-2xx/s | p50 ms | p95 ms | p99 ms | max ms | send lag p99 ms | generator CPU | peak in flight | SLOs |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const s of j.steps) {
    const w = s.window;
    lines.push(
      `| ${s.phase} | ${s.rate} | ${Math.round(perSecond(w.all.ok, w))} | ${Math.round(perSecond(w.all.shed, w))} | ${Math.round(perSecond(w.all.bad, w))} | ${ms(w.all.p50)} | ${ms(w.all.p95)} | ${ms(w.all.p99)} | ${ms(w.all.max)} | ${ms(w.lagP99)}${s.generatorLimited ? ' ⚠' : ''} | ${(100 * s.cpuShare).toFixed(0)}% | ${s.peakInFlight} | ${s.violations.length === 0 ? 'met' : escape(s.violations.join('; '))} |`,
    );
  }
  return lines.join('\n');
}

/** Latency at 50%, 80% and 100% of the knee, overall and per endpoint. */
export function kneeLatencyTable(j: JourneyCapacity): string {
  const profile = j.steps.filter((s) => s.phase === 'profile');
  if (profile.length === 0) {
    return j.status === 'not-reached'
      ? 'The knee was not reached: run with higher `--rates` to find it.'
      : 'No knee: nothing measured below it.';
  }
  const lines = [
    '| share of the knee | req/s | endpoint | requests | p50 ms | p80 ms | p95 ms | p99 ms | max ms | non-2xx |',
    '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of profile) {
    const share = j.knee ? `${Math.round((100 * s.rate) / j.knee)}%` : '–';
    const tags = Object.entries(s.window.byTag);
    const rows: Array<[string, Window['all']]> =
      tags.length > 1 ? [['all', s.window.all], ...tags] : [[tags[0]?.[0] ?? 'all', s.window.all]];
    for (const [tag, t] of rows) {
      lines.push(
        `| ${share} | ${s.rate} | ${tag} | ${t.count} | ${ms(t.p50)} | ${ms(t.p80)} | ${ms(t.p95)} | ${ms(t.p99)} | ${ms(t.max)} | ${t.count - t.ok} |`,
      );
    }
  }
  return lines.join('\n');
}

/** The non-2xx answers of every step above the knee, 429/503 apart from what must not happen. */
export function errorsAboveKnee(j: JourneyCapacity): string {
  const steps = above(j);
  if (steps.length === 0) {
    return 'No step above the knee was run.';
  }
  const e = errorBreakdown(steps.map((s) => s.window));
  const bad = { ...e.calledOut, ...e.other };
  const badTotal = Object.values(bad).reduce((a, b) => a + b, 0);
  return [
    `Over the ${steps.length === 1 ? 'step' : `${steps.length} steps`} above the knee (${steps.map((s) => s.rate).join(', ')} req/s):`,
    `shed as designed ${counts(e.shed)}; ${
      badTotal === 0
        ? 'nothing else (no 502, 504, timeout or other error).'
        : `**not expected: ${counts(bad)}**.`
    }`,
  ].join(' ');
}

const niceMax = (x: number): number => {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(x, 1))));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= x) ?? 10 * p;
};

/**
 * One panel per journey: 2xx/s, shed/s and other errors/s against the offered rate, on the same
 * scale on both axes (the dashed diagonal is "everything offered answered 2xx"), the knee as a
 * vertical line and the overload step as a diamond.
 */
export function capacityChartSvg(journeys: readonly JourneyCapacity[], title: string): string {
  const panelW = 360;
  const panelH = 230;
  const cols = 2;
  const pad = { left: 48, right: 12, top: 28, bottom: 30 };
  const width = cols * panelW + 20;
  const height = 56 + Math.ceil(journeys.length / cols) * panelH;
  const series = [
    { label: '2xx/s', color: '#3a7bd5', value: (w: Window) => perSecond(w.all.ok, w) },
    { label: '429+503/s', color: '#f0ad4e', value: (w: Window) => perSecond(w.all.shed, w) },
    { label: 'other errors/s', color: '#d9534f', value: (w: Window) => perSecond(w.all.bad, w) },
  ];
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${10 + i * 130}" y="30" width="12" height="3" fill="${s.color}"/><text x="${26 + i * 130}" y="35" font-size="11">${s.label}</text>`,
    )
    .join('');
  const panels = journeys.map((j, k) => {
    const x0 = 10 + (k % cols) * panelW;
    const y0 = 50 + Math.floor(k / cols) * panelH;
    const plotW = panelW - pad.left - pad.right;
    const plotH = panelH - pad.top - pad.bottom;
    const steps = j.steps.filter((s) => s.phase !== 'profile').sort((a, b) => a.rate - b.rate);
    const max = niceMax(Math.max(1, ...steps.map((s) => s.rate)));
    const px = (v: number): number => x0 + pad.left + (plotW * v) / max;
    const py = (v: number): number => y0 + pad.top + plotH - (plotH * Math.min(v, max)) / max;
    const ticks = [0, max / 2, max]
      .map(
        (t) =>
          `<text x="${px(t).toFixed(1)}" y="${y0 + panelH - 14}" font-size="10" text-anchor="middle">${t}</text><text x="${x0 + pad.left - 4}" y="${(py(t) + 3).toFixed(1)}" font-size="10" text-anchor="end">${t}</text>`,
      )
      .join('');
    const frame = `<rect x="${x0 + pad.left}" y="${y0 + pad.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#ccc"/><line x1="${px(0)}" y1="${py(0)}" x2="${px(max)}" y2="${py(max)}" stroke="#bbb" stroke-dasharray="4 3"/>`;
    const lines = series
      .map((s) => {
        const pts = steps.map(
          (st) => `${px(st.rate).toFixed(1)},${py(s.value(st.window)).toFixed(1)}`,
        );
        const dots = steps
          .map((st) =>
            st.phase === 'overload'
              ? `<path d="M${px(st.rate).toFixed(1)} ${(py(s.value(st.window)) - 5).toFixed(1)} l5 5 l-5 5 l-5 -5 z" fill="${s.color}"/>`
              : `<circle cx="${px(st.rate).toFixed(1)}" cy="${py(s.value(st.window)).toFixed(1)}" r="2.5" fill="${s.color}"/>`,
          )
          .join('');
        return `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.5"/>${dots}`;
      })
      .join('');
    const knee =
      j.knee !== undefined
        ? `<line x1="${px(j.knee).toFixed(1)}" y1="${y0 + pad.top}" x2="${px(j.knee).toFixed(1)}" y2="${y0 + pad.top + plotH}" stroke="#5cb85c" stroke-dasharray="3 2"/><text x="${(px(j.knee) + 3).toFixed(1)}" y="${y0 + pad.top + 12}" font-size="10" fill="#3d8b3d">knee ${j.knee}</text>`
        : '';
    return `<text x="${x0 + pad.left}" y="${y0 + 18}" font-size="12" font-weight="bold">${escape(j.name)}</text>${frame}${ticks}${knee}${lines}<text x="${x0 + pad.left + plotW / 2}" y="${y0 + panelH - 2}" font-size="10" text-anchor="middle">offered req/s</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="10" y="18" font-size="14" font-weight="bold">${escape(title)}</text>${legend}\n${panels.join('\n')}\n</svg>\n`;
}
