/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  // Integration tests talk to a real Temporal server started by scripts/with-temporal.ts.
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/global-setup.ts',
  // Two cores: more workers than that only fight over the one Temporal server.
  maxWorkers: 2,
};
