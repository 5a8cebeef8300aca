/**
 * Integration and end-to-end tests: against the real test stack (Postgres clusters, Redis,
 * every service, NGINX) that the project's own stack code starts on private ports in global
 * setup and stops in global teardown.
 */
const preset = require('./jest.preset');

module.exports = {
  ...preset,
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  projects: [
    {
      ...preset,
      displayName: 'integration',
      testMatch: ['<rootDir>/{libs,services}/**/*.integration-spec.ts'],
    },
    { ...preset, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
  testTimeout: 60_000,
};
