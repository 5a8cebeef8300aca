import { parseArgs, UsageError } from './cli-args';

describe(parseArgs.name, () => {
  it('reads the command and its options', () => {
    expect(
      parseArgs([
        'up',
        '--profile',
        'test',
        '--fresh',
        '--only',
        'infra',
        '--otlp',
        'http://x:4318',
      ]),
    ).toEqual({
      command: 'up',
      profile: 'test',
      fresh: true,
      json: false,
      only: 'infra',
      otlp: 'http://x:4318',
      passthrough: [],
      cluster: 'main',
    });
  });

  it('reads failover with its cluster and the standby to promote', () => {
    expect(parseArgs(['failover'])).toMatchObject({ command: 'failover', cluster: 'main' });
    expect(
      parseArgs(['failover', '--cluster', 'shard-1', '--to', 'pg-shard-1-replica-1']),
    ).toMatchObject({ command: 'failover', cluster: 'shard-1', to: 'pg-shard-1-replica-1' });
    expect(() => parseArgs(['up', '--cluster', 'main'])).toThrow(UsageError);
  });

  it('defaults to start on the dev profile', () => {
    expect(parseArgs([])).toMatchObject({ command: 'start', profile: 'dev', fresh: false });
  });

  it('takes the NGINX port from MURMUR_PORT unless --port is given', () => {
    expect(parseArgs(['start'], { MURMUR_PORT: '9090' }).port).toBe(9090);
    expect(parseArgs(['start', '--port', '8081'], { MURMUR_PORT: '9090' }).port).toBe(8081);
    expect(parseArgs(['start'], { MURMUR_PORT: '' }).port).toBeUndefined();
  });

  it('reads status --json', () => {
    expect(parseArgs(['status', '--json'])).toMatchObject({ command: 'status', json: true });
  });

  it('passes unknown options of migrate on to the migrate command', () => {
    expect(parseArgs(['migrate', '--profile', 'test', '--revert'])).toMatchObject({
      command: 'migrate',
      profile: 'test',
      passthrough: ['--revert'],
    });
  });

  it('treats --help as the help command', () => {
    expect(parseArgs(['--help']).command).toBe('help');
    expect(parseArgs(['up', '-h']).command).toBe('help');
  });

  it.each([
    [['deploy']],
    [['up', '--bogus']],
    [['up', '--profile', 'prod']],
    [['up', '--only', 'services']],
    [['up', '--port', '0']],
    [['up', '--port', '70000']],
    [['up', '--port', '80a']],
    [['up', '--otlp']],
    [['up', '--otlp', '--fresh']],
    [['up', '--otlp', 'jaeger:4318']],
  ])('refuses %j', (argv) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
  });

  it('refuses a MURMUR_PORT that is not a port', () => {
    expect(() => parseArgs(['start'], { MURMUR_PORT: 'eighty' })).toThrow(/MURMUR_PORT/);
  });
});
