import { formatTable, LineSplitter, linePrefix, prettyLogLine } from './output';

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

describe(prettyLogLine.name, () => {
  it('turns a pino line into level, context and message', () => {
    const line = JSON.stringify({
      level: 30,
      time: 1764680000000,
      pid: 42,
      hostname: 'h',
      context: 'Bootstrap',
      msg: 'user-1 listening on 127.0.0.1:3001',
    });
    expect(prettyLogLine(line)).toBe('info  [Bootstrap] user-1 listening on 127.0.0.1:3001');
  });

  it('keeps the error message and simple fields, drops nested objects', () => {
    const line = JSON.stringify({
      level: 50,
      time: 1,
      msg: 'flush failed',
      err: { message: 'Connection is closed.', stack: 'Error: …' },
      trace_id: 'abc',
      req: { url: '/x' },
    });
    expect(prettyLogLine(line)).toBe(
      'ERROR flush failed  error="Connection is closed." trace_id=abc',
    );
  });

  it.each([
    ['2026-12-02 12:00:00.000 UTC [123] LOG:  database system is ready'],
    ['{not json'],
    ['{"a":1}'],
  ])('passes a line that is not pino JSON unchanged: %s', (line) => {
    expect(prettyLogLine(line)).toBe(line);
  });
});
