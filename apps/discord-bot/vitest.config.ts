import { graphqlAlias } from '@zimage/gateway/vitest-graphql';
import { defineConfig } from 'vitest/config';
import { LOADED_MACHINE_TIMEOUTS } from '../../vitest.shared.ts';

export default defineConfig({
  // The integration tests run the real gateway in-process (see the alias's comment).
  resolve: { alias: [graphqlAlias] },
  test: { ...LOADED_MACHINE_TIMEOUTS },
});
