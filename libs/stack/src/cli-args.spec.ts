import { parseArgs, UsageError } from './cli-args';

describe(parseArgs.name, () => {
  it('reads the command and options, with MURMUR_PORT as the default port', () => {
    expect(
      parseArgs(['up', '--profile', 'test', '--fresh', '--only', 'infra'], { MURMUR_PORT: '9090' }),
    ).toEqual({
      command: 'up',
      profile: 'test',
      fresh: true,
      json: false,
      only: 'infra',
      port: 9090,
    });
    expect(parseArgs(['status', '--json', '--port', '8081'])).toMatchObject({
      json: true,
      port: 8081,
    });
  });

  it('refuses unknown options and bad values', () => {
    expect(() => parseArgs(['up', '--bogus'])).toThrow(UsageError);
    expect(() => parseArgs(['up', '--profile', 'prod'])).toThrow(UsageError);
    expect(() => parseArgs(['up', '--port', '0'])).toThrow(UsageError);
    expect(() => parseArgs(['up', '--otlp'])).toThrow(UsageError);
  });
});
