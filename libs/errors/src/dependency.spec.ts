import { DependencyUnavailable, isDependencyFailure, withDeadline } from './dependency';
import { toProblem } from './problem-json.filter';

describe(withDeadline.name, () => {
  it('passes a result that arrives in time through', async () => {
    await expect(withDeadline(Promise.resolve(42), 1_000, 'x')).resolves.toBe(42);
  });

  it('fails with DependencyUnavailable (503, Retry-After) when the call does not settle in time', async () => {
    const never = new Promise<number>(() => undefined);
    const error = await withDeadline(never, 20, 'The job queue').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailable);
    expect(toProblem(error)).toMatchObject({ status: 503, code: 'dependency_unavailable' });
    expect((error as DependencyUnavailable).retryAfterSeconds).toBeGreaterThan(0);
  });
});

describe(isDependencyFailure.name, () => {
  it.each([
    ['an ioredis command timeout', new Error('Command timed out')],
    ['a pg client read timeout', new Error('Query read timeout')],
    [
      'a data Redis at maxmemory refusing a write',
      new Error("OOM command not allowed when used memory > 'maxmemory'."),
    ],
    [
      'a data Redis at maxmemory refusing a MULTI',
      new Error('EXECABORT Transaction discarded because of previous errors.'),
    ],
    ['a pg pool that cannot connect', new Error('timeout exceeded when trying to connect')],
    [
      'a statement cancelled by statement_timeout',
      Object.assign(new Error('x'), { code: '57014' }),
    ],
    ['a refused connection', Object.assign(new Error('x'), { code: 'ECONNREFUSED' })],
    [
      'a write that reached a demoted primary',
      Object.assign(new Error('cannot execute INSERT in a read-only transaction'), {
        code: '25006',
      }),
    ],
  ])('recognises %s, which becomes a 503', (_name, error) => {
    expect(isDependencyFailure(error)).toBe(true);
    expect(toProblem(error).status).toBe(503);
  });

  it('leaves bugs as bugs (500)', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    expect(isDependencyFailure(bug)).toBe(false);
    expect(toProblem(bug).status).toBe(500);
  });
});
