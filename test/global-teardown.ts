import { ROOT, stackOfThisCheckout } from './stack-of-this-checkout';

export default async function globalTeardown(): Promise<void> {
  if (process.env.KEEP_STACK === '1') {
    console.log(
      'KEEP_STACK=1: leaving the test stack running (npm run stack:down -- --profile test)',
    );
    return;
  }
  await stackOfThisCheckout().stopStack({ profile: 'test', root: ROOT });
}
