import { stopStack } from '@murmur/stack';
import { REPO_ROOT } from '@murmur/testing';

export default async function globalTeardown(): Promise<void> {
  if (process.env.KEEP_STACK === '1') {
    console.log(
      'KEEP_STACK=1: leaving the test stack running (npm run stack:down -- --profile test)',
    );
    return;
  }
  await stopStack({ profile: 'test', root: REPO_ROOT });
}
