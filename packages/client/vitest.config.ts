import { graphqlAlias } from '@zimage/gateway/vitest-graphql';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The tests run the real gateway in-process (see the alias's comment).
  resolve: { alias: [graphqlAlias] },
  test: {
    // Real jobs on the simulator, reconnects with backoff.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
