import { buildMessage, ValidateBy, type ValidationOptions } from 'class-validator';
import { parseId } from '@murmur/database';

/** The largest Postgres `bigint` (int8): ids beyond it would fail in the database, not here. */
const INT8_MAX = 9_223_372_036_854_775_807n;

/** A positive id in decimal that fits an int8 column (1 … 2^63−1), as every Murmur id does. */
export function isInt8Id(value: unknown): value is string {
  return typeof value === 'string' && parseId(value) !== undefined;
}

/**
 * class-validator decorator for id parameters and fields: a positive int8 in decimal. A regex
 * alone lets 19-digit values above 2^63−1 through, which Postgres then refuses with a 500.
 */
export function IsInt8Id(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isInt8Id',
      validator: {
        validate: (value: unknown) => isInt8Id(value),
        defaultMessage: buildMessage(
          (each) => `${each}$property must be a positive 64-bit integer (1 to ${INT8_MAX})`,
          options,
        ),
      },
    },
    options,
  );
}
