import { formatTable, LineSplitter, linePrefix } from './output';

describe(LineSplitter.name, () => {
  it('returns whole lines only and keeps a partial line for the next chunk', () => {
    const sut = new LineSplitter();
    expect(sut.push('one\ntw')).toEqual(['one']);
    expect(sut.push('o\r\nthree')).toEqual(['two']);
    expect(sut.flush()).toEqual(['three']);
    expect(sut.flush()).toEqual([]);
  });
});

describe(linePrefix.name, () => {
  it('pads the name to a common width', () => {
    expect(linePrefix('redis', 8, false)).toBe('redis    | ');
  });

  it('colours only when asked, the same colour for the same name', () => {
    const coloured = linePrefix('redis', 8, true);
    const esc = String.fromCharCode(27);
    expect(coloured.startsWith(`${esc}[`)).toBe(true);
    expect(coloured.endsWith(`mredis   ${esc}[0m | `)).toBe(true);
    expect(linePrefix('redis', 8, true)).toBe(coloured);
  });
});

describe(formatTable.name, () => {
  it('aligns columns and shows a missing pid and an unhealthy component plainly', () => {
    const table = formatTable([
      { name: 'pg-main-primary', role: 'primary', port: 15432, pid: 10, healthy: true },
      { name: 'redis', role: 'queue', port: 16379, pid: null, healthy: false },
    ]);
    expect(table.split('\n')).toEqual([
      'component        role     port   pid  healthy',
      '---------------  -------  -----  ---  -------',
      'pg-main-primary  primary  15432  10   yes',
      'redis            queue    16379  -    NO',
    ]);
  });
});
