import {
  decodeMember,
  encodeMember,
  parsePeriod,
  WINDOW_GRACE_MS,
  windowAt,
  windowExpiresAt,
  windowKey,
  windowsAt,
} from './leaderboard-windows';

const at = (iso: string): number => Date.parse(iso);

describe('leaderboard windows', () => {
  it("puts 23:59:59.999 UTC in that day's board and 00:00 in the next day's", () => {
    expect(windowAt('daily', at('2026-12-03T23:59:59.999Z')).period).toBe('2026-12-03');
    expect(windowAt('daily', at('2026-12-04T00:00:00.000Z')).period).toBe('2026-12-04');
    expect(windowKey('posters', windowAt('daily', at('2026-12-03T23:59:59.999Z')))).toBe(
      'lb:posters:daily:2026-12-03',
    );
  });

  it('bounds a day from its midnight (inclusive) to the next (exclusive)', () => {
    const day = windowAt('daily', at('2026-12-03T12:00:00Z'));
    expect(day.startMs).toBe(at('2026-12-03T00:00:00Z'));
    expect(day.endMs).toBe(at('2026-12-04T00:00:00Z'));
    expect(windowExpiresAt(day)).toBe(at('2026-12-04T00:00:00Z') + WINDOW_GRACE_MS);
  });

  it.each([
    // Sunday night is the end of an ISO week, Monday 00:00 the start of the next
    ['2026-12-06T23:59:59.999Z', '2026-W49', '2026-11-30T00:00:00.000Z'],
    ['2026-12-07T00:00:00.000Z', '2026-W50', '2026-12-07T00:00:00.000Z'],
    // the ISO year is the year of the week's Thursday
    ['2026-12-31T12:00:00.000Z', '2026-W53', '2026-12-28T00:00:00.000Z'],
    ['2027-01-03T23:59:59.999Z', '2026-W53', '2026-12-28T00:00:00.000Z'],
    ['2027-01-04T00:00:00.000Z', '2027-W01', '2027-01-04T00:00:00.000Z'],
    ['2025-12-29T00:00:00.000Z', '2026-W01', '2025-12-29T00:00:00.000Z'],
    ['2021-01-03T10:00:00.000Z', '2020-W53', '2020-12-28T00:00:00.000Z'],
  ])('puts %s in ISO week %s (from %s)', (instant, period, monday) => {
    const week = windowAt('weekly', at(instant));
    expect(week.period).toBe(period);
    expect(new Date(week.startMs).toISOString()).toBe(monday);
    expect(week.endMs).toBe(week.startMs + 7 * 86_400_000);
  });

  it('puts every instant in one all-time board that never expires', () => {
    const all = windowAt('all', at('2026-12-03T00:00:00Z'));
    expect(windowKey('liked-posts', all)).toBe('lb:liked-posts:all');
    expect(windowExpiresAt(all)).toBeUndefined();
  });

  it('counts one instant in its day, its week and all-time', () => {
    expect(windowsAt(at('2026-12-03T10:00:00Z')).map((w) => w.period)).toEqual([
      '2026-12-03',
      '2026-W49',
      'all',
    ]);
  });

  it.each([
    ['daily', '2026-12-03'],
    ['daily', '2024-02-29'],
    ['weekly', '2026-W49'],
    ['weekly', '2026-W53'],
    ['weekly', '2027-W01'],
    ['all', 'all'],
  ] as const)('reads the %s period %s back as the window it names', (window, period) => {
    const found = parsePeriod(window, period);
    expect(found?.period).toBe(period);
    expect(windowAt(window, found?.startMs ?? -1)).toEqual(found);
  });

  it.each([
    ['daily', '2026-02-30'],
    ['daily', '2026-W49'],
    ['weekly', '2027-W53'],
    ['weekly', '2026-W00'],
    ['weekly', '2026-12-03'],
    ['all', '2026-12-03'],
  ] as const)('refuses the %s period %s', (window, period) => {
    expect(parsePeriod(window, period)).toBeUndefined();
  });
});

describe('board member encoding', () => {
  it('orders equal scores lower id first in a descending (ZREVRANGE) read', () => {
    const ids = ['10', '9', '100', '2', '9223372036854775807', '1'];
    // a sorted set orders equal scores by member bytes; a REV read reverses that
    const reverseBytes = ids
      .map(encodeMember)
      .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0))
      .map(decodeMember);
    expect(reverseBytes).toEqual(['1', '2', '9', '10', '100', '9223372036854775807']);
  });

  it('round-trips every id of the int8 range in a fixed width', () => {
    for (const id of ['1', '42', '9223372036854775807']) {
      expect(encodeMember(id)).toHaveLength(19);
      expect(decodeMember(encodeMember(id))).toBe(id);
    }
  });
});
