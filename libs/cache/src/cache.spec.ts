import { Cache } from './cache';

const l1Only = (negativeTtlSeconds = 5): Cache<{ v: number }> =>
  new Cache<{ v: number }>({
    name: 'test',
    ttlSeconds: 60,
    negativeTtlSeconds,
    l1: { enabled: true, maxEntries: 100 },
  });

describe(Cache.name, () => {
  it('loads a cold key once for many concurrent readers (single flight)', async () => {
    const sut = l1Only();
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const loader = async (): Promise<{ v: number }> => {
      loads++;
      await gate;
      return { v: 1 };
    };
    const reads = Array.from({ length: 500 }, () => sut.getOrSet('k', loader));
    release();
    const values = await Promise.all(reads);
    expect(loads).toBe(1);
    expect(values.every((x) => x?.v === 1)).toBe(true);
  });

  it('serves later reads from L1 and replaces a value on write-through', async () => {
    const sut = l1Only();
    let loads = 0;
    const loader = (): Promise<{ v: number }> => Promise.resolve({ v: ++loads });
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 1 });
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 1 });
    await sut.set('k', { v: 9 });
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 9 });
    expect(loads).toBe(1);
  });

  it('reloads after a delete and when asked to bypass L1', async () => {
    const sut = l1Only();
    let loads = 0;
    const loader = (): Promise<{ v: number }> => Promise.resolve({ v: ++loads });
    await sut.getOrSet('k', loader);
    await sut.delete('k');
    await expect(sut.getOrSet('k', loader)).resolves.toEqual({ v: 2 });
    await expect(sut.getOrSet('k', loader, { bypassL1: true })).resolves.toEqual({ v: 3 });
  });
});
