import { STRAY_VARIABLE, TEST_OTLP_ENDPOINT } from '@murmur/testing';
import { ROOT, stackOfThisCheckout } from './stack-of-this-checkout';

/**
 * Start the test stack once for all integration and end-to-end tests: fresh data, private ports,
 * services exporting traces to the receiver the tracing test opens.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  // A variable of the caller's environment that no component may receive (checked by
  // libs/stack/src/child-env.integration-spec.ts): only what each one is configured with arrives.
  process.env[STRAY_VARIABLE] = 'set by the test setup; must not reach a stack process';
  await stackOfThisCheckout().startStack({
    profile: 'test',
    root: ROOT,
    fresh: true,
    otlpEndpoint: TEST_OTLP_ENDPOINT,
  });
  console.log(`\ntest stack up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
