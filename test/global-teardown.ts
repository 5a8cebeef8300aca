// Relative, not @murmur/*: see global-setup.ts.
import { stopStack } from '../libs/stack/src';
import { REPO_ROOT } from '../libs/testing/src';

export default async function globalTeardown(): Promise<void> {
  if (process.env.KEEP_STACK === '1') {
    console.log(
      'KEEP_STACK=1: leaving the test stack running (npm run stack:down -- --profile test)',
    );
    return;
  }
  await stopStack({ profile: 'test', root: REPO_ROOT });
}
