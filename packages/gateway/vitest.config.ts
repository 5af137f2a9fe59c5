import { defineConfig } from 'vitest/config';
import { LOADED_MACHINE_TIMEOUTS } from '../../vitest.shared.ts';
import { graphqlAlias } from './vitest-graphql.ts';

export default defineConfig({
  resolve: { alias: [graphqlAlias] },
  test: { ...LOADED_MACHINE_TIMEOUTS },
});
