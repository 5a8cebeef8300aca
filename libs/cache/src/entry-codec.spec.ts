import { z } from 'zod';
import { cacheInvalidEntriesTotal } from './cache.metrics';
import { EntryCodec } from './entry-codec';

interface Value {
  id: string;
  count: number;
}

const schema: z.ZodType<Value> = z.object({ id: z.string().regex(/^\d+$/), count: z.number() });

class FakeLogger {
  readonly warnings: string[] = [];
  warn(message: string): void {
    this.warnings.push(message);
  }
}

const refused = async (cache: string, reason: string): Promise<number> =>
  (await cacheInvalidEntriesTotal.get()).values.find(
    (v) => v.labels.cache === cache && v.labels.reason === reason,
  )?.value ?? 0;

describe(EntryCodec.name, () => {
  let logger: FakeLogger;
  let sut: EntryCodec<Value>;
  let name: string;
  beforeEach(() => {
    name = `codec-${Math.random()}`;
    logger = new FakeLogger();
    sut = new EntryCodec<Value>(name, schema, logger);
  });

  it('reads back what it encoded, and a cached "not found"', () => {
    const entry = { v: { id: '12', count: 3 }, ver: 5, d: 2, exp: 1_000 };
    expect(sut.read('k', sut.encode(entry))).toEqual(entry);
    expect(sut.read('k', sut.encode({ v: null, ver: 0 }))).toEqual({ v: null, ver: 0 });
    expect(logger.warnings).toEqual([]);
  });

  it('drops properties the schema does not know', () => {
    const raw = JSON.stringify({ v: { id: '1', count: 1, isAdmin: true }, ver: 1, extra: 'x' });
    expect(sut.read('k', raw)).toEqual({ v: { id: '1', count: 1 }, ver: 1 });
  });

  it.each([
    ['a wrong type in the value', { v: { id: '1', count: 'lots' }, ver: 1 }],
    ['an id that is not digits', { v: { id: '<script>', count: 1 }, ver: 1 }],
    ['a missing field', { v: { id: '1' }, ver: 1 }],
    ['no version', { v: { id: '1', count: 1 } }],
    ['a version that is not a number', { v: { id: '1', count: 1 }, ver: '9' }],
    ['an expiry that is not a number', { v: { id: '1', count: 1 }, ver: 1, exp: 'never' }],
    ['not an object', ['v', 1]],
  ])('refuses %s, counting it as a bad shape', async (_, forged) => {
    const before = await refused(name, 'shape');
    expect(sut.read('k', JSON.stringify(forged))).toBeUndefined();
    expect(await refused(name, 'shape')).toBe(before + 1);
  });

  it('refuses bytes that are not JSON, counting them apart', async () => {
    expect(sut.read('k', '{"v":')).toBeUndefined();
    expect(await refused(name, 'json')).toBe(1);
  });

  it('warns once per key, naming the key and the fields but never the value', () => {
    const forged = JSON.stringify({ v: { id: '1', count: 'secret-payload' }, ver: 1 });
    sut.read('a', forged);
    sut.read('a', forged);
    sut.read('b', '{not json');
    expect(logger.warnings).toHaveLength(2);
    expect(logger.warnings[0]).toContain('key a');
    expect(logger.warnings[0]).toContain('v.count');
    expect(logger.warnings.join('\n')).not.toContain('secret-payload');
    expect(logger.warnings[1]).toContain('key b');
  });

  it('parses without counting or logging (a writer peeking at the version)', async () => {
    expect(sut.parse('{"v":1')).toEqual({ invalid: 'json' });
    expect(await refused(name, 'json')).toBe(0);
    expect(logger.warnings).toEqual([]);
  });

  it('checks only the envelope without a schema', () => {
    const trusting = new EntryCodec<unknown>(name, undefined, logger);
    expect(trusting.read('k', JSON.stringify({ v: ['anything'], ver: 1 }))).toEqual({
      v: ['anything'],
      ver: 1,
    });
    expect(trusting.read('k', JSON.stringify({ v: 1, ver: 'x' }))).toBeUndefined();
  });
});
