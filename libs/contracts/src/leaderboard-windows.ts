/**
 * Leaderboard windows and the encoding of board members, shared by whoever writes a board (the
 * score worker, the rebuild, the seed) and whoever reads one (the API, the bench): one place for
 * the key names and the window arithmetic, so a writer and a reader never disagree on either.
 */

export const WINDOWS = ['daily', 'weekly', 'all'] as const;
export type BoardWindow = (typeof WINDOWS)[number];

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/** One window of one kind: the period's name (`2026-12-03`, `2026-W49`, `all`) and its bounds. */
export interface WindowPeriod {
  window: BoardWindow;
  period: string;
  /** epoch ms, inclusive (0 for all-time) */
  startMs: number;
  /** epoch ms, exclusive; undefined for all-time, which never ends */
  endMs?: number;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * The window of kind `window` that holds the instant `ms`. Windows are UTC: a day runs from
 * 00:00:00.000 to 23:59:59.999, a week is an ISO 8601 week (Monday to Sunday, numbered by the
 * year its Thursday falls in, so 2026-12-31 is in 2026-W53 and 2027-01-04 starts 2027-W01).
 */
export function windowAt(window: BoardWindow, ms: number): WindowPeriod {
  switch (window) {
    case 'daily': {
      const startMs = Math.floor(ms / DAY_MS) * DAY_MS;
      return {
        window,
        period: new Date(startMs).toISOString().slice(0, 10),
        startMs,
        endMs: startMs + DAY_MS,
      };
    }
    case 'weekly': {
      const day = Math.floor(ms / DAY_MS);
      // 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on a Monday
      const monday = day - ((((day + 3) % 7) + 7) % 7);
      const startMs = monday * DAY_MS;
      const thursday = new Date(startMs + 3 * DAY_MS);
      const isoYear = thursday.getUTCFullYear();
      const week = Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / WEEK_MS) + 1;
      return { window, period: `${isoYear}-W${pad(week)}`, startMs, endMs: startMs + WEEK_MS };
    }
    case 'all':
      return { window, period: 'all', startMs: 0 };
    default: {
      const unknown: never = window;
      throw new Error(`unknown window ${String(unknown)}`);
    }
  }
}

/** Every window an instant counts in: a score lands on the day's, the week's and the all-time board. */
export const windowsAt = (ms: number): WindowPeriod[] => WINDOWS.map((w) => windowAt(w, ms));

const DAILY = /^(\d{4})-(\d{2})-(\d{2})$/;
const WEEKLY = /^(\d{4})-W(\d{2})$/;

/**
 * The window a period name names (`2026-12-03`, `2026-W49`), or undefined when it is not a real
 * period of that window (2026-02-30, 2026-W54). Round-trips with `windowAt`.
 */
export function parsePeriod(window: BoardWindow, period: string): WindowPeriod | undefined {
  if (window === 'all') {
    return period === 'all' ? windowAt('all', 0) : undefined;
  }
  const daily = window === 'daily' ? DAILY.exec(period) : null;
  if (daily) {
    const ms = Date.UTC(Number(daily[1]), Number(daily[2]) - 1, Number(daily[3]));
    const found = windowAt('daily', ms);
    return found.period === period ? found : undefined;
  }
  const weekly = window === 'weekly' ? WEEKLY.exec(period) : null;
  if (weekly) {
    // ISO week 1 holds 4 January; step from its Monday
    const jan4 = Date.UTC(Number(weekly[1]), 0, 4);
    const found = windowAt(
      'weekly',
      windowAt('weekly', jan4).startMs + (Number(weekly[2]) - 1) * WEEK_MS,
    );
    return found.period === period ? found : undefined;
  }
  return undefined;
}

/** sorted set: one board in one window, encoded member → score (see `encodeMember`) */
export const windowKey = (board: string, p: Pick<WindowPeriod, 'window' | 'period'>): string =>
  p.window === 'all' ? `lb:${board}:all` : `lb:${board}:${p.window}:${p.period}`;

/** hash: encoded member → the version of the score the window key holds for it */
export const windowVersionKey = (
  board: string,
  p: Pick<WindowPeriod, 'window' | 'period'>,
): string => `${windowKey(board, p)}:v`;

/**
 * How long a windowed key outlives its window: late events (a post created at 23:59:59 whose job
 * runs after midnight) still land on the day they belong to, and yesterday's board stays in
 * Redis a while for readers. Older periods are served from the materialized view.
 */
export const WINDOW_GRACE_MS = 2 * 3_600_000;

/** When a window's key expires (epoch ms), or undefined for all-time. */
export const windowExpiresAt = (p: WindowPeriod): number | undefined =>
  p.endMs === undefined ? undefined : p.endMs + WINDOW_GRACE_MS;

/**
 * Ties. A sorted set orders equal scores by member, bytewise, and a descending read (ZRANGE REV,
 * ZREVRANK) reverses that. The documented order is "equal score → lower id first", so a member is
 * the id's distance from the int8 maximum, zero-padded to 19 digits: a lower id is a greater
 * string, first in a descending read, and ZREVRANK's rank is the same order's position. Postgres
 * reads order by `score DESC, member_id ASC` to match.
 */
const MAX_INT8 = 9_223_372_036_854_775_807n;

export function encodeMember(id: string): string {
  return (MAX_INT8 - BigInt(id)).toString().padStart(19, '0');
}

export function decodeMember(member: string): string {
  return (MAX_INT8 - BigInt(member)).toString();
}

/** What a board ranks: users (posts written) or posts (likes received). */
export type BoardMember = 'user' | 'post';
