import { wantsFresh } from './cache-control';

describe(wantsFresh.name, () => {
  it('asks for a fresh read on no-cache or max-age=0 only', () => {
    expect(wantsFresh('no-cache')).toBe(true);
    expect(wantsFresh('max-age=0')).toBe(true);
    expect(wantsFresh('private, No-Cache')).toBe(true);
    expect(wantsFresh(undefined)).toBe(false);
    expect(wantsFresh('max-age=60')).toBe(false);
    expect(wantsFresh('no-cache-please')).toBe(false);
    expect(wantsFresh(`${'x,'.repeat(200)}no-cache`)).toBe(false);
  });
});
