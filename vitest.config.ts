import { defineConfig } from 'vitest/config';

// Three projects, as the Powertools root config does: fast unit tests, integration tests
// against the local stand-ins (started once in globalSetup), and CDK template assertions.
export default defineConfig({
  test: {
    // Node 20 is supported until 2027; the SDK's reminder would drown the test output.
    // Routine INFO lines would bury failures in CI output; tests that read logs raise the level.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'WARN' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/helpers/global-stand-ins.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
