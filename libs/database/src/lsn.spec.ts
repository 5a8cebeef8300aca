import { isLsn, lsnAtLeast, maxLsn, parseLsn } from './lsn';

describe(parseLsn.name, () => {
  it('orders positions across the high word', () => {
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(lsnAtLeast('16/B374D848', '16/B374D848')).toBe(true);
    expect(lsnAtLeast('16/B374D847', '16/B374D848')).toBe(false);
    expect(maxLsn(undefined, '0/10')).toBe('0/10');
    expect(maxLsn('0/20', '0/10')).toBe('0/20');
  });

  it('rejects what is not an LSN', () => {
    expect(isLsn('0/16B3748')).toBe(true);
    expect(isLsn('x/1')).toBe(false);
    expect(() => parseLsn('12')).toThrow('not an LSN');
  });
});
