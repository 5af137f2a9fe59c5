import { graphqlAlias } from '@zimage/gateway/vitest-graphql';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The integration tests run the real gateway in-process (see the alias's comment).
  resolve: { alias: [graphqlAlias] },
  test: {
    // Integration tests wait for real jobs on the simulator and for the 2 s edit throttle.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
