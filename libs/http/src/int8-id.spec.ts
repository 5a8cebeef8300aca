import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { IsInt8Id, isInt8Id } from './int8-id';

class Params {
  @IsInt8Id()
  id!: string;
}

const errorsFor = (id: unknown): string[] =>
  validateSync(plainToInstance(Params, { id })).flatMap((e) => Object.values(e.constraints ?? {}));

describe(isInt8Id.name, () => {
  it.each(['1', '42', '9223372036854775807'])('accepts %s', (id) => {
    expect(isInt8Id(id)).toBe(true);
    expect(errorsFor(id)).toEqual([]);
  });

  it.each(['0', '-1', '01', '1.5', '1e5', 'abc', '', '9223372036854775808', '9999999999999999999'])(
    'refuses %s (not a positive int8)',
    (id) => {
      expect(isInt8Id(id)).toBe(false);
      expect(errorsFor(id).join()).toMatch(/positive 64-bit integer/);
    },
  );

  it('refuses what is not a string', () => {
    expect(isInt8Id(5)).toBe(false);
  });
});
