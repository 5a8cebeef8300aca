// For the deploy-check specs only (not built: tsconfig.build.json leaves out *.spec-helper.ts).
/**
 * `describe` when the tool the block needs is here; otherwise one failing test that names the
 * tool and how to install it. A deploy check that cannot run is a red run, never a skip.
 */
export function describeWithTool(
  missing: string | undefined,
): (name: string, fn: () => void) => void {
  if (missing === undefined) {
    return describe;
  }
  return (name: string) =>
    describe(name, () => {
      it('has the tool it needs', () => {
        throw new Error(`cannot run here: ${missing}`);
      });
    });
}
