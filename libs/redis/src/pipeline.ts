/**
 * Throw the first error of an ioredis pipeline's results: `exec()` resolves even when commands
 * in it failed, so a caller that does not look would take a failed write for done.
 */
export function throwOnPipelineError(results: Array<[Error | null, unknown]> | null): void {
  const failed = results?.find(([error]) => error !== null);
  if (failed) {
    throw failed[0] as Error;
  }
}
