import path from 'node:path';
import type { startStack, stopStack } from '@murmur/stack';

/**
 * The stack code of this checkout, as built in its `dist/`. Jest loads global setup and teardown
 * with Node's own resolver, not with the `@murmur/*` path mapping the specs get, so a bare
 * `@murmur/stack` there resolves through node_modules' workspace links — in a git worktree whose
 * node_modules is shared with another checkout, to *that* checkout's libs, which would then start
 * that checkout's services under its own `.stack-test/`. The built code requires its libs by
 * relative paths, so loading it from here keeps the stack, its state and its services this
 * checkout's (the stack specs build first anyway: the services run from `dist/`).
 */
export const ROOT = path.resolve(__dirname, '..');

export function stackOfThisCheckout(): {
  startStack: typeof startStack;
  stopStack: typeof stopStack;
} {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(ROOT, 'dist', 'libs', 'stack', 'src', 'index.js')) as {
      startStack: typeof startStack;
      stopStack: typeof stopStack;
    };
  } catch (error) {
    throw new Error(
      `no built stack under ${ROOT}/dist (run \`npm run build\` first): ${(error as Error).message}`,
    );
  }
}
